"""The Bicep templates keep the promises infra/README.md makes, checked offline on pycep-parser's parse of them.

Secure settings that must not regress silently, the wiring of the environment switches into every module, what
prod.bicepparam resolves each security switch to (and that dev keeps the open values), role assignments with
reasons, GA API versions, the parameter files, and the Azure ML YAML twins in step with the Bicep defaults. The
check functions live in infra/bicep_policy.py so tests/negative/test_bad_infra.py runs the same checks on broken
copies and sees them fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from scripts import load_script

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
MAIN = INFRA / "main.bicep"


def load_infra_module(name: str) -> ModuleType:
    """infra/<name>.py, which is a script folder, not a package."""
    return load_script(INFRA / f"{name}.py")


check_bicep = load_infra_module("check_bicep")
policy = load_infra_module("bicep_policy")

BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# The API versions this template targets (infra/README.md says how each was confirmed). A change here is a
# deliberate upgrade, made together with the README.
API_VERSIONS = {
    "Microsoft.MachineLearningServices/workspaces": "2025-12-01",
    "Microsoft.MachineLearningServices/workspaces/computes": "2025-12-01",
    "Microsoft.Storage/storageAccounts": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2023-05-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2023-05-01",
    "Microsoft.KeyVault/vaults": "2023-07-01",
    "Microsoft.ContainerRegistry/registries": "2023-07-01",
    "Microsoft.OperationalInsights/workspaces": "2023-09-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
    "Microsoft.Insights/privateLinkScopes": "2021-09-01",
    "Microsoft.Insights/privateLinkScopes/scopedResources": "2021-09-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Network/networkSecurityGroups": "2024-05-01",
    "Microsoft.Network/virtualNetworks": "2024-05-01",
    "Microsoft.Network/privateEndpoints": "2024-05-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2024-05-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.Insights/actionGroups": "2022-04-01",
    "Microsoft.Insights/metricAlerts": "2018-03-01",
    "Microsoft.Insights/scheduledQueryRules": "2023-12-01",
    "Microsoft.Insights/autoscalesettings": "2022-10-01",
    "Microsoft.Consumption/budgets": "2024-08-01",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints": "2025-12-01",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments": "2025-12-01",
}


@pytest.fixture(scope="module")
def templates() -> dict[Path, dict]:
    return {path: check_bicep.parse_bicep(path) for path in BICEP_FILES}


@pytest.fixture(scope="module")
def deployment():
    return policy.load_deployment(MAIN, check_bicep.parse_bicep)


def main_defaults(deployment) -> dict:
    scope = deployment.scope
    return {name: scope.lookup(name) for name in deployment.main["parameters"]}


# ---------------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------------


def test_every_bicep_and_bicepparam_file_passes_check_bicep(capsys):
    files = check_bicep.discover([INFRA])
    assert check_bicep.check(files) == 0, capsys.readouterr().out
    assert {p.suffix for p in files} == {".bicep", ".bicepparam"}


def test_main_targets_a_resource_group(templates):
    assert templates[MAIN]["globals"]["scope"]["value"] == "resourceGroup"


def test_every_module_referenced_by_main_exists_and_every_module_is_used(templates):
    assert policy.missing_module_files(MAIN, templates[MAIN]) == []
    used = {(INFRA / m["detail"]["path"]).resolve() for m in templates[MAIN]["modules"].values()}
    assert sorted(p.name for p in (INFRA / "modules").glob("*.bicep") if p.resolve() not in used) == []


# ---------------------------------------------------------------------------------------------------------------
# Secure and cost-safe settings, per template (each check must find what it checks)
# ---------------------------------------------------------------------------------------------------------------

CHECKS = {
    "key vault: RBAC, soft delete, purge protection": (policy.key_vault_problems, "Microsoft.KeyVault/vaults"),
    "registry: no admin user": (
        policy.container_registry_problems,
        "Microsoft.ContainerRegistry/registries",
    ),
    "storage: no public blobs, TLS 1.2, HTTPS only": (policy.storage_problems, "Microsoft.Storage/storageAccounts"),
    "workspace and cluster: system-assigned identity": (
        policy.managed_identity_problems,
        "Microsoft.MachineLearningServices/workspaces",
    ),
    "compute: scale to zero, idle shutdown, no keys or SSH": (
        policy.compute_cost_problems,
        "Microsoft.MachineLearningServices/workspaces/computes",
    ),
    "role assignments: guid names, built-in roles, descriptions": (
        policy.role_assignment_problems,
        "Microsoft.Authorization/roleAssignments",
    ),
}


@pytest.mark.parametrize("name", CHECKS)
def test_secure_settings(templates, name):
    check, resource_type = CHECKS[name]
    found = [t for t in templates.values() if policy.resources(t, resource_type)]
    assert found, f"no {resource_type} in infra/: the check would pass vacuously"
    problems = [f"{path.relative_to(INFRA)}: {p}" for path, t in templates.items() for p in check(t)]
    assert problems == []


def test_the_cluster_and_the_instance_are_both_declared(templates):
    computes = [
        policy.body(r)["properties"]["computeType"]
        for t in templates.values()
        for r in policy.resources(t, "Microsoft.MachineLearningServices/workspaces/computes").values()
    ]
    assert sorted(computes) == ["AmlCompute", "ComputeInstance"]


def test_every_role_assignment_has_a_comment_saying_why():
    problems = []
    for path in BICEP_FILES:
        problems += [f"{path.name}: {p}" for p in policy.role_assignment_comment_problems(path.read_text())]
    assert problems == []


def test_no_preview_api_versions_except_the_allow_listed_one(templates):
    assert [p for t in templates.values() for p in policy.api_version_problems(t)] == []
    text = "\n".join(path.read_text() for path in BICEP_FILES)
    preview = set(re.findall(r"'([\w./]+)@(\d{4}-\d{2}-\d{2}-preview)'", text))
    assert preview <= set(policy.ALLOWED_PREVIEW_API_VERSIONS)


def test_api_versions_are_the_documented_ones(templates):
    used = {(r["type"], r["api_version"]) for t in templates.values() for r in t.get("resources", {}).values()}
    assert {t for t, _ in used} == set(API_VERSIONS)
    assert sorted(f"{t}@{v}" for t, v in used if API_VERSIONS[t] != v) == []


# ---------------------------------------------------------------------------------------------------------------
# Wiring of main.bicep's switches into the modules
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("isolated", [True, False], ids=["isolated", "public"])
def test_network_isolation_switch_reaches_every_endpoint(deployment, isolated):
    assert policy.network_isolation_problems(deployment, isolated) == []


@pytest.mark.parametrize("allow_shared_key", [True, False], ids=["keys", "identity-only"])
def test_shared_key_switch_reaches_storage_and_workspace(deployment, allow_shared_key):
    assert policy.shared_key_problems(deployment, allow_shared_key) == []


def test_ci_role_assignments_only_when_a_ci_principal_is_given(deployment):
    assert policy.ci_role_problems(deployment) == []


def test_secure_defaults_of_main(deployment):
    defaults = main_defaults(deployment)
    # Every security switch defaults to its dev (open) value, explicitly; prod.bicepparam sets the secure one.
    assert {name: defaults[name] for name in policy.SECURE_VALUES} == {
        "enableNetworkIsolation": False,
        "allowStorageSharedKeyAccess": True,
        "allowAppInsightsLocalAuth": True,
        "monitorPublicNetworkAccessForIngestion": "Enabled",
        "monitorPublicNetworkAccessForQuery": "Enabled",
    }
    assert defaults["deployComputeInstance"] is False
    assert defaults["ciPrincipalId"] == ""
    assert defaults["clusterReadsKeyVaultSecrets"] is False
    assert defaults["computeClusterName"] == "cpu-cluster"


@pytest.mark.parametrize(
    "values",
    [
        {"prefix": "abcdefgh", "environment": "prod", "nameSuffix": "abcdefghijklm"},
        {"prefix": "ab", "environment": "dev", "nameSuffix": "x1y2"},
    ],
    ids=["longest", "shortest"],
)
def test_generated_names_fit_azure_naming_rules(deployment, values):
    names = deployment.with_values(**values).scope.lookup("names")
    rules = {
        "storage": r"^[a-z0-9]{3,24}$",
        "keyVault": r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$",
        "containerRegistry": r"^[a-zA-Z0-9]{5,50}$",
        "workspace": r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$",
        "computeInstance": r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$",
    }
    assert {key: names[key] for key, rule in rules.items() if not re.match(rule, str(names[key]))} == {}


def test_outputs_name_everything_ci_and_az_ml_need(templates):
    outputs = set(templates[MAIN]["outputs"])
    assert {
        "resourceGroupName",
        "workspaceName",
        "computeClusterName",
        "computeInstanceName",
        "storageAccountName",
        "keyVaultName",
        "containerRegistryName",
        "applicationInsightsName",
        "mlflowTrackingUri",
        "actionGroupName",
        "onlineInstanceType",
    } <= outputs


# ---------------------------------------------------------------------------------------------------------------
# Parameter files
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev.bicepparam", "prod.bicepparam"])
def test_parameter_file_uses_main_and_sets_only_declared_params(name):
    target, params = check_bicep.parse_bicepparam(INFRA / name)
    assert target == "main.bicep"
    assert params, "no param lines found"
    assert check_bicep.bicepparam_problems(INFRA / name) == []


def test_prod_turns_network_isolation_on_and_dev_off():
    dev = policy.parse_bicepparam_values((INFRA / "dev.bicepparam").read_text())
    prod = policy.parse_bicepparam_values((INFRA / "prod.bicepparam").read_text())
    assert (dev["enableNetworkIsolation"], prod["enableNetworkIsolation"]) == ("false", "true")
    assert (dev["environment"], prod["environment"]) == ("'dev'", "'prod'")


# ---------------------------------------------------------------------------------------------------------------
# Dev and prod: what each security switch resolves to (infra/README.md, "Dev and prod")
# ---------------------------------------------------------------------------------------------------------------

# (switch, resource, property, value prod.bicepparam must resolve to). Written out here, independently of
# bicep_policy.SETTINGS, so a change to either is a deliberate edit of both.
PROD_SECURE = [
    ("enableNetworkIsolation", "workspace workspace", "properties.publicNetworkAccess", "Disabled"),
    ("enableNetworkIsolation", "storage storage", "properties.publicNetworkAccess", "Disabled"),
    ("enableNetworkIsolation", "monitor private link scope scope", "deployed", True),
    ("allowStorageSharedKeyAccess", "storage storage", "properties.allowSharedKeyAccess", False),
    ("allowStorageSharedKeyAccess", "workspace workspace", "properties.systemDatastoresAuthMode", "Identity"),
    ("allowStorageSharedKeyAccess", "cluster cluster", "identity.type", "UserAssigned"),
    ("allowAppInsightsLocalAuth", "application insights appInsights", "properties.DisableLocalAuth", True),
    (
        "monitorPublicNetworkAccessForIngestion",
        "application insights appInsights",
        "properties.publicNetworkAccessForIngestion",
        "Disabled",
    ),
    (
        "monitorPublicNetworkAccessForQuery",
        "application insights appInsights",
        "properties.publicNetworkAccessForQuery",
        "Disabled",
    ),
    (
        "monitorPublicNetworkAccessForIngestion",
        "log analytics logAnalytics",
        "properties.publicNetworkAccessForIngestion",
        "Disabled",
    ),
    (
        "monitorPublicNetworkAccessForQuery",
        "log analytics logAnalytics",
        "properties.publicNetworkAccessForQuery",
        "Disabled",
    ),
]


@pytest.fixture(scope="module")
def prod_resolved(deployment) -> dict[tuple[str, str, str], object]:
    _, values = policy.parameter_file_values(INFRA / "prod.bicepparam")
    return {(s.parameter, where, s.key): actual for s, where, actual in policy.resolve_settings(deployment, values)}


@pytest.mark.parametrize(
    ("switch", "where", "key", "secure"), PROD_SECURE, ids=[f"{w}.{k}" for _, w, k, _ in PROD_SECURE]
)
def test_prod_parameter_file_resolves_to_the_secure_value(prod_resolved, switch, where, key, secure):
    actual = prod_resolved[(switch, where, key)]
    assert (actual, type(actual)) == (secure, type(secure))


def test_prod_sets_every_switch_itself_and_has_no_other_problem(deployment, prod_resolved):
    raw, _ = policy.parameter_file_values(INFRA / "prod.bicepparam")
    assert {name: policy.bicepparam_literal(raw[name]) for name in policy.SECURE_VALUES if name in raw} == (
        policy.SECURE_VALUES
    )
    assert policy.parameter_file_problems(deployment, INFRA / "prod.bicepparam", secure=True) == []
    assert set(prod_resolved) == {(s, w, k) for s, w, k, _ in PROD_SECURE}


def test_dev_parameter_file_keeps_the_open_values(deployment):
    assert policy.parameter_file_problems(deployment, INFRA / "dev.bicepparam", secure=False) == []
    _, values = policy.parameter_file_values(INFRA / "dev.bicepparam")
    resolved = {(s.parameter, where, s.key): actual for s, where, actual in policy.resolve_settings(deployment, values)}
    assert resolved[("allowStorageSharedKeyAccess", "workspace workspace", "properties.systemDatastoresAuthMode")] == (
        "AccessKey"
    )
    assert resolved[("enableNetworkIsolation", "monitor private link scope scope", "deployed")] is False


@pytest.mark.parametrize("switch", policy.SECURE_VALUES)
@pytest.mark.parametrize("secure", [True, False], ids=["secure", "open"])
def test_each_switch_reaches_every_property_it_controls(deployment, switch, secure):
    value = policy.SECURE_VALUES[switch]
    if not secure:
        value = {True: False, False: True, "Disabled": "Enabled"}[value]
    assert policy.switch_problems(deployment, switch, value) == []


def test_monitor_private_link_scope_holds_log_analytics_and_app_insights_only(deployment):
    assert policy.monitor_private_link_problems(deployment) == []


def test_readme_dev_prod_table_names_every_switch():
    readme = (INFRA / "README.md").read_text()
    section = readme.split("## Dev and prod", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert [name for name in policy.SECURE_VALUES if not any(f"`{name}`" in row for row in rows)] == []


# ---------------------------------------------------------------------------------------------------------------
# Azure ML YAML twins and the pipeline
# ---------------------------------------------------------------------------------------------------------------


def read_twin(name: str) -> dict:
    return yaml.safe_load((INFRA / "azureml" / name).read_text())


def test_compute_yaml_twins_equal_the_bicep_defaults(deployment):
    cluster, instance = read_twin("compute-cluster.yml"), read_twin("compute-instance.yml")
    assert policy.compute_twin_problems(cluster, instance, deployment) == []
    assert (cluster["name"], cluster["min_instances"], cluster["max_instances"]) == ("cpu-cluster", 0, 2)


def test_workspace_yaml_twin_equals_the_bicep_defaults(deployment):
    assert policy.workspace_twin_problems(read_twin("workspace.yml"), deployment) == []
    assert read_twin("workspace.yml")["system_datastores_auth_mode"] == "accesskey"  # dev; prod.bicepparam: identity


def test_datastore_yaml_is_identity_based_on_the_container_bicep_creates(templates):
    datastore = read_twin("datastore-blob.yml")
    assert "credentials" not in datastore
    containers = policy.resources(
        templates[INFRA / "modules" / "storage.bicep"], "Microsoft.Storage/storageAccounts/blobServices/containers"
    )
    assert datastore["container_name"] in {policy.body(c)["name"] for c in containers.values()}


def test_pipeline_default_compute_is_the_cluster_bicep_creates(deployment):
    pipeline = yaml.safe_load((REPO / "pipelines" / "train.yml").read_text())
    cluster = main_defaults(deployment)["computeClusterName"]
    assert pipeline["settings"]["default_compute"] == f"azureml:{cluster}"
    for name in ("dev.bicepparam", "prod.bicepparam"):
        values = policy.parse_bicepparam_values((INFRA / name).read_text())
        assert values.get("computeClusterName", f"'{cluster}'") == f"'{cluster}'"
