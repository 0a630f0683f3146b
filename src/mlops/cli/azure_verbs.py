"""Verbs only the Azure target has: `mlops azure ensure`, `mlops deploy online|batch`, `mlops promote`."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops.cli.common import EXIT_OK, SharedFlags, azure_client, layout, model_layout, request_file
from mlops.errors import MlopsError


def register(verbs: argparse._SubParsersAction, flags: SharedFlags) -> None:
    deploy = verbs.add_parser("deploy", help="deploy to Azure ML endpoints").add_subparsers(dest="kind", required=True)
    online = deploy.add_parser("online", help="managed online endpoint: deploy and safe rollout (one action per call)")
    online.add_argument("--endpoint-name", help="override the name in endpoints/online/endpoint.yml")
    action = online.add_mutually_exclusive_group(required=True)
    action.add_argument("--deployment", help="create or update this deployment (endpoints/online/<name>.yml)")
    action.add_argument("--traffic", metavar="SPEC", help="shift live traffic, e.g. blue=90,green=10")
    action.add_argument(
        "--mirror", metavar="SPEC", help="mirror a share of live traffic, e.g. green=10 (green=0 stops)"
    )
    action.add_argument("--test", metavar="DEPLOYMENT", help="score --file on one deployment directly")
    action.add_argument("--rollback", metavar="DEPLOYMENT", help="send all traffic back to this deployment")
    action.add_argument("--delete", metavar="DEPLOYMENT", help="delete a deployment that takes no traffic")
    online.add_argument(
        "--model", help="registered model NAME:VERSION with --deployment; NAME picks the model's endpoint otherwise"
    )
    online.add_argument(
        "--file", type=Path, help="with --test: request JSON (default: endpoints/online/sample-request.json)"
    )
    online.set_defaults(func=deploy_online)
    batch = deploy.add_parser("batch", help="batch endpoint and its deployment (endpoints/batch/)")
    batch.add_argument("--model", help="registered model NAME:VERSION (default: the YAML's)")
    batch.set_defaults(func=deploy_batch)

    promote = verbs.add_parser("promote", help="copy a workspace model version into an Azure ML registry (dev -> prod)")
    promote.add_argument("--model", required=True, help="workspace model NAME:VERSION")
    promote.add_argument("--registry", required=True, help="registry name (infra/azureml/registry.yml)")
    promote.set_defaults(func=promote_model)

    azure = verbs.add_parser("azure", help="the Azure ML workspace").add_subparsers(dest="action", required=True)
    ensure = azure.add_parser(
        "ensure",
        help="create or update compute, environments, data assets and components from the repo's YAML (idempotent)",
    )
    ensure.set_defaults(func=ensure_workspace)


def deploy_online(args: argparse.Namespace) -> int:
    from mlops.targets.azure import online

    if args.model and ":" in args.model and not args.deployment:
        raise MlopsError("--model NAME:VERSION goes with --deployment; the other actions take --model NAME")
    model = model_layout(args.model)
    rollout = online.OnlineRollout(azure_client(model.project), model, args.endpoint_name)
    if args.deployment:
        rollout.deploy(args.deployment, args.model)
    elif args.traffic:
        rollout.set_traffic(args.traffic)
    elif args.mirror:
        rollout.set_mirror(args.mirror)
    elif args.test:
        rollout.invoke(args.test, request_file(model, args.file))
    elif args.rollback:
        rollout.rollback(args.rollback)
    elif args.delete:
        rollout.delete(args.delete)
    return EXIT_OK


def deploy_batch(args: argparse.Namespace) -> int:
    from mlops.targets.azure import batch

    model = model_layout(args.model)
    batch.deploy(azure_client(model.project), model, args.model)
    return EXIT_OK


def promote_model(args: argparse.Namespace) -> int:
    from mlops.targets.azure import registry

    print(registry.promote(azure_client(layout()), args.model, args.registry))
    return EXIT_OK


def ensure_workspace(args: argparse.Namespace) -> int:
    from mlops.targets.azure import workspace

    project = layout()
    workspace.ensure(azure_client(project), workspace.repo_definitions(project))
    return EXIT_OK
