"""Verbs only the Azure target has: `mlops azure ensure|quota|teardown`, `mlops deploy online|batch`,
`mlops promote`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mlops.cli.common import EXIT_OK, SharedFlags, azure_client, layout, model_layout, request_file
from mlops.errors import MlopsError

if TYPE_CHECKING:
    from mlops.project.layout import ModelLayout


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
    online.add_argument(
        "--instance-type",
        metavar="SKU",
        help="with --deployment: VM size instead of the YAML's instance_type (dev: e.g. Standard_DS2_v2)",
    )
    online.add_argument(
        "--instance-count", type=int, metavar="N", help="with --deployment: instances instead of the YAML's"
    )
    online.add_argument(
        "--profile",
        metavar="NAME",
        help="with --deployment: the instance type and count infra/<profile>.bicepparam sets (onlineInstanceType, "
        "onlineInstanceCount); --instance-type/--instance-count win",
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
    quota = azure.add_parser(
        "quota",
        help="pre-flight: is there enough regional vCPU quota for the compute cluster and the online deployments?",
    )
    quota.add_argument(
        "--profile",
        metavar="NAME",
        default="dev",
        help="infra/<profile>.bicepparam: the cluster's VM size and max nodes, the online instance type and count "
        "when it sets them (default: dev)",
    )
    quota.add_argument(
        "--instance-type", metavar="SKU", help="the online deployments' VM size, as `deploy online --instance-type`"
    )
    quota.add_argument(
        "--instance-count", type=int, metavar="N", help="the online deployments' instances, as `deploy online`"
    )
    quota.add_argument("--location", help="Azure region to check (default: the workspace's)")
    quota.add_argument(
        "--model", help="the model definition models/NAME.yml whose deployments count (default: the only model)"
    )
    quota.set_defaults(func=check_quota)
    teardown = azure.add_parser(
        "teardown",
        help="dev only: delete the endpoints endpoints/ names and scale clusters to 0 nodes (dry run without --yes)",
    )
    teardown.add_argument(
        "--environment",
        required=True,
        help="must be dev; the workspace must also carry the tag environment=dev (infra/main.bicep sets it)",
    )
    teardown.add_argument("--yes", action="store_true", help="do it (without: list what would change, exit 0)")
    teardown.set_defaults(func=teardown_workspace)


def deploy_online(args: argparse.Namespace) -> int:
    from mlops.targets.azure import online

    if args.model and ":" in args.model and not args.deployment:
        raise MlopsError("--model NAME:VERSION goes with --deployment; the other actions take --model NAME")
    if (args.instance_type or args.instance_count is not None or args.profile) and not args.deployment:
        raise MlopsError("--instance-type, --instance-count and --profile go with --deployment")
    model = model_layout(args.model)
    instance_type, instance_count, _ = serving_size(model, args)
    rollout = online.OnlineRollout(azure_client(model.project), model, args.endpoint_name)
    if args.deployment:
        rollout.deploy(args.deployment, args.model, instance_type, instance_count)
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


def serving_size(model: ModelLayout, args: argparse.Namespace) -> tuple[str | None, int | None, str]:
    """(instance type, instance count, where they come from): --instance-type/--instance-count, else what
    infra/<profile>.bicepparam sets with --profile, else None (the deployment YAML's)."""
    if args.instance_count is not None and args.instance_count < 1:
        raise MlopsError(f"--instance-count must be at least 1, not {args.instance_count}")
    sku, count = None, None
    if args.profile:
        from mlops.targets.azure import quota

        sku, count = quota.profile_online(model.project.infra_profile(args.profile))
    explicit = args.instance_type or args.instance_count is not None
    source = "--instance-type/--instance-count" if explicit else f"onlineInstanceType in {args.profile}.bicepparam"
    return args.instance_type or sku, args.instance_count if args.instance_count is not None else count, source


def check_quota(args: argparse.Namespace) -> int:
    from mlops.targets.azure import quota

    model = model_layout(args.model)
    instance_type, instance_count, source = serving_size(model, args)
    needs = [quota.cluster_need(model.project.infra_profile(args.profile))]
    needs += quota.online_needs(model, instance_type, instance_count, source)
    quota.check(azure_client(model.project), needs, args.location)
    return EXIT_OK


def teardown_workspace(args: argparse.Namespace) -> int:
    from mlops.targets.azure import teardown, workspace

    project = layout()
    config = workspace.workspace_config(project)
    teardown.teardown(azure_client(project), project, config.workspace_name, args.environment, args.yes)
    return EXIT_OK
