"""The offline infrastructure checks fail when they should, naming the file and the setting.

A Bicep syntax error makes infra/check_bicep.py (and so `make infra-check`) fail with the file's name: checkov alone
would skip the file and pass. An insecure template, a broken wiring or a drifted twin makes the matching check in
infra/bicep_policy.py report it. Each case starts from a copy of the real infra/ folder and breaks one thing; the
fixtures in tests/fixtures/infra/ are small stand-alone broken files.

(Named test_bad_infra.py, not test_infra.py: pytest cannot collect two test modules with the same basename from
folders without __init__.py.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from scripts import load_script

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
FIXTURES = REPO / "tests" / "fixtures" / "infra"


def load_infra_module(name: str) -> ModuleType:
    """infra/<name>.py, which is a script folder, not a package."""
    return load_script(INFRA / f"{name}.py")


check_bicep = load_infra_module("check_bicep")
policy = load_infra_module("bicep_policy")


# ---------------------------------------------------------------------------------------------------------------
# Syntax: check_bicep.py
# ---------------------------------------------------------------------------------------------------------------


def run_check_bicep(*targets: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(INFRA / "check_bicep.py"), *map(str, targets)]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=60)


def test_a_syntax_error_fails_check_bicep_naming_the_file():
    result = run_check_bicep(FIXTURES / "syntax-error.bicep")
    assert result.returncode == 1
    assert f"FAIL {FIXTURES / 'syntax-error.bicep'}: UnexpectedToken" in result.stdout
    assert "1 failed" in result.stdout


def test_in_a_folder_only_the_broken_file_is_reported(tmp_path):
    shutil.copytree(INFRA, tmp_path / "infra", ignore=shutil.ignore_patterns("__pycache__", "*.py", "azureml"))
    broken = tmp_path / "infra" / "modules" / "storage.bicep"
    broken.write_text(broken.read_text().replace("resource storage 'Microsoft", "resource storage = 'Microsoft", 1))
    result = run_check_bicep(tmp_path / "infra")
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith(f"FAIL {broken}:")


def test_a_valid_file_passes_check_bicep():
    assert run_check_bicep(INFRA / "modules" / "log-analytics.bicep").returncode == 0


def test_the_insecure_fixture_parses_but_fails_the_registry_check():
    assert run_check_bicep(FIXTURES / "insecure-registry.bicep").returncode == 0
    template = check_bicep.parse_bicep(FIXTURES / "insecure-registry.bicep")
    problems = policy.container_registry_problems(template)
    assert problems == ["registry registry: adminUserEnabled is True, expected False"]


# ---------------------------------------------------------------------------------------------------------------
# Parameter files
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("using 'main.bicep'\nparam enableNetworkIsolaton = true\n", "param enableNetworkIsolaton: not declared"),
        ("param enableNetworkIsolation = true\n", "no `using"),
        ("using 'mian.bicep'\nparam prefix = 'x'\n", "using 'mian.bicep': file not found"),
        ("using 'main.bicep'\nparam prefix = 'a'\nparam prefix = 'b'\n", "param prefix: set twice"),
    ],
    ids=["unknown param", "no using", "missing template", "param twice"],
)
def test_a_bad_parameter_file_is_reported(tmp_path, text, expected):
    shutil.copy2(INFRA / "main.bicep", tmp_path / "main.bicep")
    (tmp_path / "bad.bicepparam").write_text(text)
    problems = check_bicep.bicepparam_problems(tmp_path / "bad.bicepparam")
    assert any(expected in p for p in problems), problems
    assert run_check_bicep(tmp_path / "bad.bicepparam").returncode == 1


# ---------------------------------------------------------------------------------------------------------------
# Secure settings and wiring: one broken copy of infra/ per case
# ---------------------------------------------------------------------------------------------------------------


def broken_copy(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    root = tmp_path / "infra"
    shutil.copytree(INFRA, root, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / relative
    text = path.read_text()
    assert old in text, f"{relative} no longer contains {old!r}: update this case"
    path.write_text(text.replace(old, new, 1))
    return root


def on_template(check: Callable, relative: str) -> Callable[[Path], list[str]]:
    return lambda root: check(check_bicep.parse_bicep(root / relative))


def on_text(check: Callable, relative: str) -> Callable[[Path], list[str]]:
    return lambda root: check((root / relative).read_text())


def on_deployment(check: Callable, *args) -> Callable[[Path], list[str]]:
    return lambda root: check(policy.load_deployment(root / "main.bicep", check_bicep.parse_bicep), *args)


def on_prod(root: Path) -> list[str]:
    """What the copy's prod.bicepparam resolves to through the copy's (possibly broken) wiring."""
    deployment = policy.load_deployment(root / "main.bicep", check_bicep.parse_bicep)
    return policy.parameter_file_problems(deployment, root / "prod.bicepparam", secure=True)


KV, ACR, ST = "modules/key-vault.bicep", "modules/container-registry.bicep", "modules/storage.bicep"
APPI, LOG, AMPLS = "modules/app-insights.bicep", "modules/log-analytics.bicep", "modules/monitor-private-link.bicep"
CLUSTER, INSTANCE, ROLES = (
    "modules/compute-cluster.bicep",
    "modules/compute-instance.bicep",
    "modules/role-assignments.bicep",
)
WS, MAIN = "modules/workspace.bicep", "main.bicep"

CASES = {
    "key vault purge protection off": (
        KV,
        "enablePurgeProtection: true",
        "enablePurgeProtection: false",
        on_template(policy.key_vault_problems, KV),
        "enablePurgeProtection is False",
    ),
    "key vault access policies": (
        KV,
        "enableRbacAuthorization: true",
        "enableRbacAuthorization: false",
        on_template(policy.key_vault_problems, KV),
        "enableRbacAuthorization is False",
    ),
    "registry admin user on": (
        ACR,
        "adminUserEnabled: false",
        "adminUserEnabled: true",
        on_template(policy.container_registry_problems, ACR),
        "adminUserEnabled is True",
    ),
    "storage TLS 1.0": (
        ST,
        "minimumTlsVersion: 'TLS1_2'",
        "minimumTlsVersion: 'TLS1_0'",
        on_template(policy.storage_problems, ST),
        "minimumTlsVersion is 'TLS1_0'",
    ),
    "storage public blobs": (
        ST,
        "allowBlobPublicAccess: false",
        "allowBlobPublicAccess: true",
        on_template(policy.storage_problems, ST),
        "allowBlobPublicAccess is True",
    ),
    "storage HTTPS only from a parameter": (
        ST,
        "supportsHttpsTrafficOnly: true",
        "supportsHttpsTrafficOnly: httpsOnly",
        on_template(policy.storage_problems, ST),
        "supportsHttpsTrafficOnly is 'httpsOnly'",
    ),
    "cluster keeps a node": (
        CLUSTER,
        "minNodeCount: 0",
        "minNodeCount: 1",
        on_template(policy.compute_cost_problems, CLUSTER),
        "minNodeCount is 1",
    ),
    "cluster never scales down": (
        CLUSTER,
        "        nodeIdleTimeBeforeScaleDown: 'PT${idleSecondsBeforeScaleDown}S'\n",
        "",
        on_template(policy.compute_cost_problems, CLUSTER),
        "nodeIdleTimeBeforeScaleDown None",
    ),
    "cluster without managed identity": (
        CLUSTER,
        "type: 'SystemAssigned'",
        "type: 'None'",
        on_template(policy.managed_identity_problems, CLUSTER),
        "identity.type is 'None'",
    ),
    "workspace without managed identity": (
        WS,
        "type: 'SystemAssigned'",
        "type: 'UserAssigned'",
        on_template(policy.managed_identity_problems, WS),
        "identity.type is 'UserAssigned'",
    ),
    "instance never shuts down": (
        INSTANCE,
        "      idleTimeBeforeShutdown: 'PT${idleMinutesBeforeShutdown}M'\n",
        "",
        on_template(policy.compute_cost_problems, INSTANCE),
        "idleTimeBeforeShutdown None",
    ),
    "role assignment without description": (
        ROLES,
        "    description: 'Compute cluster: pull environment images (the registry admin user is disabled).'\n",
        "",
        on_template(policy.role_assignment_problems, ROLES),
        "clusterAcrPull: no description",
    ),
    "role assignment with a fixed name": (
        ROLES,
        "name: guid(registry.id, clusterPrincipalId, roles.acrPull)",
        "name: 'cluster-acr-pull'",
        on_template(policy.role_assignment_problems, ROLES),
        "clusterAcrPull: name is not guid",
    ),
    "role assignment with an unknown role": (
        ROLES,
        "acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'",
        "acrPull: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'",
        on_template(policy.role_assignment_problems, ROLES),
        "not a known built-in role ('8e3af657",
    ),
    "role assignment without a comment": (
        ROLES,
        "// back on.\nresource clusterAcrPull",
        "// back on.\n\nresource clusterAcrPull",
        on_text(policy.role_assignment_comment_problems, ROLES),
        "clusterAcrPull",
    ),
    "preview API version": (
        KV,
        "'Microsoft.KeyVault/vaults@2023-07-01' = {",
        "'Microsoft.KeyVault/vaults@2024-12-01-preview' = {",
        on_template(policy.api_version_problems, KV),
        "Microsoft.KeyVault/vaults@2024-12-01-preview",
    ),
    "missing module file": (
        MAIN,
        "'modules/log-analytics.bicep'",
        "'modules/loganalytics.bicep'",
        lambda root: policy.missing_module_files(root / MAIN, check_bicep.parse_bicep(root / MAIN)),
        "modules/loganalytics.bicep not found",
    ),
    "workspace public endpoint hard-wired": (
        WS,
        "publicNetworkAccess: enableNetworkIsolation ? 'Disabled' : 'Enabled'",
        "publicNetworkAccess: 'Enabled'",
        on_deployment(policy.network_isolation_problems, True),
        "workspace workspace: publicNetworkAccess is 'Enabled'",
    ),
    "managed network off when isolated": (
        WS,
        "isolationMode: enableNetworkIsolation ? 'AllowOnlyApprovedOutbound' : 'Disabled'",
        "isolationMode: 'Disabled'",
        on_deployment(policy.network_isolation_problems, True),
        "managedNetwork.isolationMode is 'Disabled'",
    ),
    "storage not told about isolation": (
        MAIN,
        "    skuName: storageSkuName\n    publicNetworkAccess: publicNetworkAccess\n",
        "    skuName: storageSkuName\n    publicNetworkAccess: 'Enabled'\n",
        on_deployment(policy.network_isolation_problems, True),
        "storage storage: publicNetworkAccess is 'Enabled'",
    ),
    "key vault firewall open when isolated": (
        KV,
        "defaultAction: (publicNetworkAccess == 'Disabled') ? 'Deny' : 'Allow'",
        "defaultAction: 'Allow'",
        on_deployment(policy.network_isolation_problems, True),
        "networkAcls.defaultAction is 'Allow'",
    ),
    "private endpoint deployed without isolation": (
        MAIN,
        "module workspacePrivateEndpoint 'modules/private-endpoint.bicep' = if (enableNetworkIsolation) {",
        "module workspacePrivateEndpoint 'modules/private-endpoint.bicep' = {",
        on_deployment(policy.network_isolation_problems, False),
        "module workspacePrivateEndpoint: deployed is True",
    ),
    "shared keys always on": (
        ST,
        "allowSharedKeyAccess: allowSharedKeyAccess",
        "allowSharedKeyAccess: true",
        on_deployment(policy.shared_key_problems, False),
        "allowSharedKeyAccess is True",
    ),
    "cluster keeps its system identity when keys are off": (
        MAIN,
        "useUserAssignedIdentity: !allowStorageSharedKeyAccess",
        "useUserAssignedIdentity: false",
        on_deployment(policy.shared_key_problems, False),
        "cluster cluster: identity.type is 'SystemAssigned', expected 'UserAssigned'",
    ),
    "workspace datastores keep their keys in prod": (
        WS,
        "systemDatastoresAuthMode: identityBasedStorageAccess ? 'Identity' : 'AccessKey'",
        "systemDatastoresAuthMode: 'AccessKey'",
        on_prod,
        "prod.bicepparam: allowStorageSharedKeyAccess = false leaves workspace workspace "
        "properties.systemDatastoresAuthMode 'AccessKey', expected 'Identity'",
    ),
    "application insights local auth hard-wired on": (
        APPI,
        "DisableLocalAuth: disableLocalAuth",
        "DisableLocalAuth: false",
        on_prod,
        "prod.bicepparam: allowAppInsightsLocalAuth = false leaves application insights appInsights "
        "properties.DisableLocalAuth False, expected True",
    ),
    "log analytics answers public queries whatever the switch": (
        LOG,
        "publicNetworkAccessForQuery: publicNetworkAccessForQuery",
        "publicNetworkAccessForQuery: 'Enabled'",
        on_prod,
        "prod.bicepparam: monitorPublicNetworkAccessForQuery = 'Disabled' leaves log analytics logAnalytics "
        "properties.publicNetworkAccessForQuery 'Enabled', expected 'Disabled'",
    ),
    "monitor private link scope deployed without isolation": (
        MAIN,
        "module monitorPrivateLink 'modules/monitor-private-link.bicep' = if (enableNetworkIsolation) {",
        "module monitorPrivateLink 'modules/monitor-private-link.bicep' = {",
        on_deployment(policy.network_isolation_problems, False),
        "module monitorPrivateLink: deployed is True",
    ),
    "monitor private link scope open to other resources": (
        AMPLS,
        "queryAccessMode: 'PrivateOnly'",
        "queryAccessMode: 'Open'",
        on_deployment(policy.monitor_private_link_problems),
        "queryAccessMode is 'Open', expected 'PrivateOnly'",
    ),
    "monitor private link scope without application insights": (
        AMPLS,
        "  logAnalyticsWorkspaceId\n  applicationInsightsId\n]",
        "  logAnalyticsWorkspaceId\n]",
        on_deployment(policy.monitor_private_link_problems),
        "scoped resources come from ['logAnalytics'], not ['appInsights', 'logAnalytics']",
    ),
    "CI role assignment without a principal": (
        ROLES,
        "= if (deployCiAssignments) {",
        "= {",
        on_deployment(policy.ci_role_problems),
        "ciDataScientist is deployed",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_template_fails_its_check(tmp_path, case):
    relative, old, new, check, expected = CASES[case]
    assert check(INFRA) == [], "the unbroken infra/ must pass this check"
    problems = check(broken_copy(tmp_path, relative, old, new))
    assert any(expected in p for p in problems), problems


# ---------------------------------------------------------------------------------------------------------------
# prod.bicepparam: each security switch flipped back to its dev value, in a copy, fails naming the file and switch
# ---------------------------------------------------------------------------------------------------------------

PROD_FLIPS = {
    "network isolation off": (
        "param enableNetworkIsolation = true",
        "param enableNetworkIsolation = false",
        "prod.bicepparam: enableNetworkIsolation = false leaves workspace workspace properties.publicNetworkAccess "
        "'Enabled', expected 'Disabled'",
    ),
    "shared keys on": (
        "param allowStorageSharedKeyAccess = false",
        "param allowStorageSharedKeyAccess = true",
        "prod.bicepparam: allowStorageSharedKeyAccess = true leaves storage storage properties.allowSharedKeyAccess "
        "True, expected False",
    ),
    "app insights local auth on": (
        "param allowAppInsightsLocalAuth = false",
        "param allowAppInsightsLocalAuth = true",
        "prod.bicepparam: allowAppInsightsLocalAuth = true leaves application insights appInsights "
        "properties.DisableLocalAuth False, expected True",
    ),
    "public ingestion": (
        "param monitorPublicNetworkAccessForIngestion = 'Disabled'",
        "param monitorPublicNetworkAccessForIngestion = 'Enabled'",
        "prod.bicepparam: monitorPublicNetworkAccessForIngestion = 'Enabled' leaves log analytics logAnalytics "
        "properties.publicNetworkAccessForIngestion 'Enabled', expected 'Disabled'",
    ),
    "public query": (
        "param monitorPublicNetworkAccessForQuery = 'Disabled'",
        "param monitorPublicNetworkAccessForQuery = 'Enabled'",
        "prod.bicepparam: monitorPublicNetworkAccessForQuery = 'Enabled' leaves application insights appInsights "
        "properties.publicNetworkAccessForQuery 'Enabled', expected 'Disabled'",
    ),
    "switch left to the dev default": (
        "param allowStorageSharedKeyAccess = false\n",
        "",
        "prod.bicepparam: allowStorageSharedKeyAccess is not set; main.bicep's default is the dev value, prod must "
        "set false",
    ),
}


@pytest.fixture(scope="module")
def deployment():
    return policy.load_deployment(INFRA / "main.bicep", check_bicep.parse_bicep)


@pytest.mark.parametrize("case", PROD_FLIPS)
def test_a_prod_switch_flipped_back_fails_naming_the_file_and_switch(tmp_path, deployment, case):
    old, new, expected = PROD_FLIPS[case]
    text = (INFRA / "prod.bicepparam").read_text()
    assert old in text, f"prod.bicepparam no longer contains {old!r}: update this case"
    copy = tmp_path / "prod.bicepparam"
    copy.write_text(text.replace(old, new, 1))
    assert policy.parameter_file_problems(deployment, INFRA / "prod.bicepparam", secure=True) == []
    problems = policy.parameter_file_problems(deployment, copy, secure=True)
    assert expected in problems, problems


def test_private_monitoring_without_isolation_is_reported(tmp_path, deployment):
    text = (INFRA / "dev.bicepparam").read_text()
    copy = tmp_path / "dev.bicepparam"
    copy.write_text(
        text.replace(
            "param monitorPublicNetworkAccessForQuery = 'Enabled'",
            "param monitorPublicNetworkAccessForQuery = 'Disabled'",
        )
    )
    problems = policy.parameter_file_problems(deployment, copy, secure=False)
    assert (
        "dev.bicepparam: monitorPublicNetworkAccessForQuery = 'Disabled' needs enableNetworkIsolation = true: without "
        "the virtual network there is no Azure Monitor Private Link Scope, so nothing could reach the data"
    ) in problems


# ---------------------------------------------------------------------------------------------------------------
# YAML twins
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "key", "value", "expected"),
    [
        ("compute-cluster.yml", "max_instances", 3, "max_instances: 3 here, 2 in Bicep"),
        ("compute-cluster.yml", "idle_time_before_scale_down", 300, "'PT300S' here, 'PT120S' in Bicep"),
        ("compute-cluster.yml", "tier", "low_priority", "tier: 'LowPriority' here, 'Dedicated' in Bicep"),
        ("compute-cluster.yml", "name", "gpu-cluster", "name: 'gpu-cluster' here, 'cpu-cluster' in Bicep"),
        ("compute-instance.yml", "idle_time_before_shutdown_minutes", 30, "'PT30M' here, 'PT60M' in Bicep"),
    ],
)
def test_a_drifted_yaml_twin_is_reported(deployment, file, key, value, expected):
    twins = {
        name: yaml.safe_load((INFRA / "azureml" / name).read_text())
        for name in ("compute-cluster.yml", "compute-instance.yml")
    }
    twins[file][key] = value
    problems = policy.compute_twin_problems(twins["compute-cluster.yml"], twins["compute-instance.yml"], deployment)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "system_datastores_auth_mode",
            "identity",
            "system_datastores_auth_mode: 'identity' here, 'AccessKey' in Bicep",
        ),
        ("public_network_access", "Disabled", "public_network_access: 'Disabled' here, 'Enabled' in Bicep"),
    ],
)
def test_a_drifted_workspace_twin_is_reported(deployment, key, value, expected):
    twin = yaml.safe_load((INFRA / "azureml" / "workspace.yml").read_text())
    assert policy.workspace_twin_problems(twin, deployment) == []
    twin[key] = value
    assert any(expected in p for p in policy.workspace_twin_problems(twin, deployment))


# ---------------------------------------------------------------------------------------------------------------
# Operations: alerts, autoscale, budget, dev quota, saved queries (tests/contract/test_infra_ops.py)
# ---------------------------------------------------------------------------------------------------------------

ALERTS, ENDPOINT_ALERTS, AUTOSCALE, BUDGET = (
    "modules/alerts.bicep",
    "ops/endpoint-alerts.bicep",
    "ops/autoscale.bicep",
    "modules/budget.bicep",
)


def named(check: Callable, relative: str) -> Callable[[Path], list[str]]:
    """Run a template check and prefix each problem with the file, as a report would."""
    return lambda root: [f"{relative}: {p}" for p in check(check_bicep.parse_bicep(root / relative))]


OPS_CASES = {
    "alert without its action group": (
        ALERTS,
        "    actions: [\n      {\n        actionGroupId: actionGroup.id\n      }\n    ]\n",
        "",
        named(policy.alert_problems, ALERTS),
        "modules/alerts.bicep: alert failedJobsAlert: no action group",
    ),
    "log alert notifying a literal id": (
        ALERTS,
        "      actionGroups: [\n        actionGroup.id\n      ]",
        "      actionGroups: [\n        '/subscriptions/x/actionGroups/other'\n      ]",
        named(policy.alert_problems, ALERTS),
        "modules/alerts.bicep: alert monitorBreachAlert: action '/subscriptions/x/actionGroups/other' is not",
    ),
    "endpoint alert scoped to something undeclared": (
        ENDPOINT_ALERTS,
        "    scopes: [\n      endpoint.id\n    ]",
        "    scopes: [\n      otherEndpoint.id\n    ]",
        named(policy.alert_problems, ENDPOINT_ALERTS),
        "ops/endpoint-alerts.bicep: alert latencyAlert: scope",
    ),
    "autoscale targeting the endpoint": (
        AUTOSCALE,
        "targetResourceUri: deployment.id",
        "targetResourceUri: endpoint.id",
        named(policy.autoscale_problems, AUTOSCALE),
        "ops/autoscale.bicep: autoscale autoscale: targetResourceUri is not an online deployment's id",
    ),
    "autoscale default above max": (
        AUTOSCALE,
        "param defaultInstances int = 1",
        "param defaultInstances int = 5",
        named(policy.autoscale_problems, AUTOSCALE),
        "not min <= default <= max",
    ),
    "budget without a forecast notification": (
        BUDGET,
        "thresholdType: 'Forecasted'",
        "thresholdType: 'Actual'",
        named(policy.budget_problems, BUDGET),
        "modules/budget.bicep: budget budget: notifications ['Actual'] lack Actual or Forecasted",
    ),
}


@pytest.mark.parametrize("case", OPS_CASES)
def test_a_broken_ops_template_fails_its_check_naming_the_file(tmp_path, case):
    relative, old, new, check, expected = OPS_CASES[case]
    assert check(INFRA) == [], "the unbroken infra/ must pass this check"
    problems = check(broken_copy(tmp_path, relative, old, new))
    assert any(expected in p for p in problems), problems


def test_a_dev_profile_over_six_vcpus_is_reported(tmp_path, deployment):
    text = (INFRA / "dev.bicepparam").read_text()
    old = "param onlineInstanceType = 'Standard_DS1_v2'"
    assert old in text
    copy = tmp_path / "dev.bicepparam"
    copy.write_text(text.replace(old, "param onlineInstanceType = 'Standard_DS2_v2'"))
    total, arithmetic = policy.quota_vcpus(deployment, policy.parameter_file_values(copy)[1])
    assert total == 10 and "2 x Standard_DS2_v2 (2) = 10 vCPUs" in arithmetic


def test_a_query_on_an_undocumented_table_is_reported(tmp_path):
    query = tmp_path / "bad.kql"
    query.write_text("// a query\nAzureDiagnostics\n| take 10\n")
    assert policy.query_problems(query) == ["bad.kql: reads AzureDiagnostics, not a documented table"]
    (tmp_path / "empty.kql").write_text("// nothing\n")
    assert policy.query_problems(tmp_path / "empty.kql") == ["empty.kql: empty"]
