"""Operations on top of the workspace keep the promises infra/README.md makes, checked offline on the parsed Bicep.

Alerts (modules/alerts.bicep in main.bicep; ops/endpoint-alerts.bicep once an online deployment exists) scope resources
their template declares and notify the action group; the autoscale template targets an online deployment with CPU
and request rules and a consistent capacity; the budget notifies on actual and forecasted spend; the dev parameter
file fits a 6-vCPU regional quota by the documented arithmetic while prod keeps the larger sizes; every saved query
reads only documented tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scripts import load_script

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
MAIN = INFRA / "main.bicep"
ALERTS = INFRA / "modules" / "alerts.bicep"
ENDPOINT_ALERTS = INFRA / "ops" / "endpoint-alerts.bicep"
AUTOSCALE = INFRA / "ops" / "autoscale.bicep"
BUDGET = INFRA / "modules" / "budget.bicep"
QUERIES = sorted((INFRA / "queries").glob("*.kql"))

check_bicep = load_script(INFRA / "check_bicep.py")
policy = load_script(INFRA / "bicep_policy.py")

DEV_QUOTA_VCPUS = 6


@pytest.fixture(scope="module")
def deployment():
    return policy.load_deployment(MAIN, check_bicep.parse_bicep)


def parse(path: Path) -> dict:
    return check_bicep.parse_bicep(path)


# ---------------------------------------------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ALERTS, ENDPOINT_ALERTS], ids=lambda p: p.name)
def test_every_alert_scopes_a_declared_resource_and_notifies_the_action_group(path):
    template = parse(path)
    alerts = policy.resources(template, policy.METRIC_ALERT) | policy.resources(template, policy.LOG_ALERT)
    assert alerts, f"no alert in {path.name}: the check would pass vacuously"
    assert policy.alert_problems(template) == []


@pytest.mark.parametrize("path", [ALERTS, ENDPOINT_ALERTS, AUTOSCALE, BUDGET], ids=lambda p: p.name)
def test_every_parameter_has_a_description(path):
    assert policy.alert_descriptions_problems(parse(path)) == []


def metrics(template: dict) -> dict[str, tuple[str, str]]:
    """alert symbol -> (metric namespace, metric name) of its single criterion."""
    found = {}
    for name, resource in policy.resources(template, policy.METRIC_ALERT).items():
        (criterion,) = policy.dig(policy.body(resource), "properties", "criteria", "allOf")
        namespace = policy.Scope(template).eval(criterion["metricNamespace"])
        found[name] = (namespace, criterion["metricName"])
    return found


def test_the_alerts_watch_the_documented_metrics():
    endpoint = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    assert metrics(parse(ENDPOINT_ALERTS)) == {
        "latencyAlert": (endpoint, "RequestLatency_P95"),
        "serverErrorsAlert": (endpoint, "RequestsPerMinute"),
        "clientErrorsAlert": (endpoint, "RequestsPerMinute"),
        "cpuAlert": (f"{endpoint}/deployments", "CpuUtilizationPercentage"),
        "memoryAlert": (f"{endpoint}/deployments", "CpuMemoryUtilizationPercentage"),
    }
    assert metrics(parse(ALERTS)) == {
        "failedJobsAlert": ("Microsoft.MachineLearningServices/workspaces", "Failed Runs"),
    }


def test_error_alerts_filter_on_the_status_code_class():
    template = parse(ENDPOINT_ALERTS)
    classes = {}
    for name in ("serverErrorsAlert", "clientErrorsAlert"):
        (criterion,) = policy.body(template["resources"][name])["properties"]["criteria"]["allOf"]
        (dimension,) = criterion["dimensions"]
        classes[name] = (dimension["name"], dimension["operator"], dimension["values"])
    assert classes == {
        "serverErrorsAlert": ("statusCodeClass", "Include", ["5xx"]),
        "clientErrorsAlert": ("statusCodeClass", "Include", ["4xx"]),
    }


def test_the_monitor_breach_alert_queries_run_status_changes_in_log_analytics(deployment):
    template = parse(ALERTS)
    rule = policy.body(template["resources"]["monitorBreachAlert"])
    (criterion,) = rule["properties"]["criteria"]["allOf"]
    assert criterion["query"].startswith("AmlRunStatusChangedEvent")
    assert template["resources"]["logAnalytics"]["type"] == policy.LOG_ANALYTICS
    # The run status events come from the workspace's diagnostic setting (all logs), declared in main's workspace.
    scope = deployment.module_scope("workspace")
    settings = policy.resources(scope.template, "Microsoft.Insights/diagnosticSettings")
    assert [policy.body(s)["properties"]["logs"][0]["categoryGroup"] for s in settings.values()] == ["allLogs"]


def test_main_wires_the_alerts_to_its_workspace_and_log_analytics(deployment):
    params = policy.body(deployment.main["modules"]["alerts"])["params"]
    assert policy._output_of(params["workspaceName"]) == "workspace"
    assert policy._output_of(params["logAnalyticsWorkspaceName"]) == "logAnalytics"
    assert deployment.module_deployed("alerts") is True
    assert deployment.scope.lookup("alertEmails") == []
    assert "actionGroupName" in deployment.main["outputs"]


def test_endpoint_alerts_take_the_action_group_main_creates(deployment):
    group = parse(ENDPOINT_ALERTS)["resources"]["actionGroup"]
    assert (group["type"], group.get("existing")) == (policy.ACTION_GROUP, True)
    assert policy.body(group)["name"] == "actionGroupName"
    # main.bicep outputs the name the ops template is given.
    assert policy._output_of(deployment.main["outputs"]["actionGroupName"]["value"]) == "alerts"


# ---------------------------------------------------------------------------------------------------------------
# Autoscale
# ---------------------------------------------------------------------------------------------------------------


def test_autoscale_targets_the_online_deployment_with_cpu_and_request_rules():
    template = parse(AUTOSCALE)
    assert policy.resources(template, policy.AUTOSCALE)
    assert policy.autoscale_problems(template) == []


@pytest.mark.parametrize(
    ("values", "ok"),
    [({"minInstances": 3, "defaultInstances": 3, "maxInstances": 10}, True), ({"maxInstances": 0}, False)],
    ids=["prod-like", "max-below-min"],
)
def test_autoscale_capacity_is_checked_for_other_values(values, ok):
    problems = policy.autoscale_problems(parse(AUTOSCALE), values)
    assert (problems == []) is ok, problems


# ---------------------------------------------------------------------------------------------------------------
# Budget
# ---------------------------------------------------------------------------------------------------------------


def test_the_budget_notifies_on_actual_and_forecasted_spend(deployment):
    assert policy.budget_problems(parse(BUDGET)) == []
    assert deployment.module_deployed("budget") is True
    budget = deployment.resource("budget", "budget")["properties"]
    thresholds = {key: (n["thresholdType"], n["threshold"]) for key, n in budget["notifications"].items()}
    assert thresholds == {
        "actualFirst": ("Actual", 50),
        "actualSecond": ("Actual", 80),
        "actualThird": ("Actual", 100),
        "forecasted": ("Forecasted", 100),
    }
    assert (budget["category"], budget["timeGrain"]) == ("Cost", "Monthly")
    # The action group is always a recipient, so an empty e-mail list still notifies someone.
    params = policy.body(deployment.main["modules"]["budget"])["params"]
    assert policy._output_of(params["actionGroupId"]) == "alerts"


def test_the_budget_starts_on_the_first_of_the_current_month(deployment):
    # A past start date must lie in the current month, so a fixed date would break redeployments.
    assert deployment.main["parameters"]["budgetStartDate"]["default"] == "${utcNow('yyyy-MM')}-01"
    for name in ("dev.bicepparam", "prod.bicepparam"):
        assert "budgetStartDate" not in policy.parse_bicepparam_values((INFRA / name).read_text())


@pytest.mark.parametrize("name", ["dev.bicepparam", "prod.bicepparam"])
def test_each_environment_sets_its_budget_and_alert_recipients(name):
    values = policy.parse_bicepparam_values((INFRA / name).read_text())
    assert {"budgetAmount", "alertEmails", "budgetContactEmails"} <= set(values)
    assert int(values["budgetAmount"]) > 0


# ---------------------------------------------------------------------------------------------------------------
# Dev quota profile and prod sizes
# ---------------------------------------------------------------------------------------------------------------


def test_dev_fits_a_six_vcpu_regional_quota(deployment):
    _, values = policy.parameter_file_values(INFRA / "dev.bicepparam")
    total, arithmetic = policy.quota_vcpus(deployment, values)
    assert total is not None, arithmetic
    assert total <= DEV_QUOTA_VCPUS, arithmetic
    # The README states the same arithmetic.
    assert arithmetic.split(" = ")[-1] in (INFRA / "README.md").read_text()


def test_the_quota_arithmetic_counts_the_upgrade_reserve(deployment):
    # The docs' example: 10 instances of a 4-vCPU size need ceil(1.2 x 10) x 4 = 48 vCPUs per deployment.
    total, _ = policy.quota_vcpus(
        deployment,
        {
            "computeClusterVmSize": "Standard_DS2_v2",
            "computeClusterMaxNodes": 1,
            "onlineInstanceType": "Standard_DS3_v2",
            "onlineInstanceCount": 10,
        },
    )
    assert total == 2 + policy.ROLLOUT_DEPLOYMENTS * 48


def test_prod_keeps_the_larger_sizes(deployment):
    dev = policy.parameter_file_values(INFRA / "dev.bicepparam")[1]
    prod = policy.parameter_file_values(INFRA / "prod.bicepparam")[1]
    for key in ("computeClusterVmSize", "onlineInstanceType"):
        assert policy.vcpus(prod[key]) > policy.vcpus(dev[key]), key
    assert prod["onlineInstanceCount"] >= 3
    assert prod["computeClusterMaxNodes"] > dev["computeClusterMaxNodes"]


# ---------------------------------------------------------------------------------------------------------------
# Saved queries
# ---------------------------------------------------------------------------------------------------------------


def test_there_are_saved_queries():
    assert {p.name for p in QUERIES} >= {
        "endpoint-latency-percentiles.kql",
        "errors-by-status-code.kql",
        "traffic-per-deployment.kql",
    }


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.name)
def test_each_query_is_non_empty_and_reads_only_documented_tables(path):
    assert policy.query_problems(path) == []


def test_every_query_table_is_documented_in_the_readme():
    section = (INFRA / "README.md").read_text().split("## Saved queries", 1)[1].split("\n## ", 1)[0]
    assert [table for table in sorted(policy.QUERY_TABLES) if f"`{table}`" not in section] == []
