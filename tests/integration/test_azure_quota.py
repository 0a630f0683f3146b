"""The vCPU quota pre-flight without Azure: the arithmetic on its own, and `check` against a fake MLClient whose
list_sizes/list_usage return the SDK's own VmSize/Usage entities (built from REST payloads, as azure-ai-ml does)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mlops.errors import MlopsError
from mlops.project.layout import Layout
from mlops.targets.azure import quota


def vm_size(name, family, vcpus):
    from azure.ai.ml._restclient.arm_ml_service.models import VirtualMachineSize
    from azure.ai.ml.entities import VmSize

    return VmSize._from_rest_object(VirtualMachineSize({"name": name, "family": family, "vCPUs": vcpus}))


def usage(name, current, limit, kind="vmFamily"):
    from azure.ai.ml._restclient.arm_ml_service.models import Usage as RestUsage
    from azure.ai.ml.entities import Usage

    payload = {
        "type": f"Microsoft.MachineLearningServices/{kind}/usages",
        "unit": "Count",
        "currentValue": current,
        "limit": limit,
        "name": {"value": name, "localizedValue": name},
    }
    return Usage._from_rest_object(RestUsage(payload))


SIZES = [
    vm_size("Standard_DS1_v2", "standardDSv2Family", 1),
    vm_size("Standard_DS2_v2", "standardDSv2Family", 2),
    vm_size("Standard_DS3_v2", "standardDSv2Family", 4),
    vm_size("Standard_DS4_v2", "standardDSv2Family", 8),
    vm_size("Standard_F4s_v2", "standardFSv2Family", 4),
]


def usages(dsv2_used=0, dsv2_limit=24, total_used=0, total_limit=100):
    return [
        usage("Total Cluster Dedicated Regional vCPUs", total_used, total_limit, "dedicatedCores"),
        usage("Standard DSv2 Family Cluster Dedicated vCPUs", dsv2_used, dsv2_limit),
        usage("Standard DSv2 Family Cluster LowPriority vCPUs", 0, -1),
        usage("Standard FSv2 Family Cluster Dedicated vCPUs", 0, 24),
    ]


class FakeCompute:
    def __init__(self, sizes, usage_list):
        self.sizes, self.usage_list, self.locations = sizes, usage_list, []

    def list_sizes(self, location=None):
        self.locations.append(location)
        return self.sizes

    def list_usage(self, location=None):
        return self.usage_list


def client(usage_list, sizes=SIZES):
    return SimpleNamespace(compute=FakeCompute(sizes, usage_list))


CLUSTER = "param computeClusterVmSize = 'Standard_DS3_v2'\nparam computeClusterMaxNodes = 2 // nodes\n"


@pytest.fixture
def profile(tmp_path):
    """A profile with a DS3_v2 cluster of at most 2 nodes (the real infra/*.bicepparam change with the budget)."""
    file = tmp_path / "infra" / "dev.bicepparam"
    file.parent.mkdir()
    file.write_text("using 'main.bicep'\n" + CLUSTER)
    return file


def repo_needs(repo_root, profile, **overrides):
    """The cluster from `profile`, the online deployments from the repo's endpoints/online/*.yml (DS3_v2 x 1)."""
    model = Layout(repo_root).for_model()
    return [quota.cluster_need(profile), *quota.online_needs(model, **overrides)]


@pytest.mark.parametrize(("count", "charged"), [(1, 2), (2, 3), (3, 4), (5, 6), (10, 12)])
def test_online_deployments_are_charged_ceil_1_2_instances(count, charged):
    assert quota.charged_instances(count, "Standard_DS3_v2") == charged
    assert quota.charged_instances(count, "Standard_ND96asr_v4") == count  # exempt from the reserve


def test_the_repo_needs_the_cluster_at_max_nodes_and_both_deployments_with_the_reserve(repo_root, profile):
    needs = repo_needs(repo_root, profile)
    assert [(n.sku, n.count, n.charged) for n in needs] == [
        ("Standard_DS3_v2", 2, 2),  # the cluster at computeClusterMaxNodes = 2: no upgrade reserve
        ("Standard_DS3_v2", 1, 2),  # blue.yml
        ("Standard_DS3_v2", 1, 2),  # green.yml
    ]
    [demand] = quota.demands(quota.resolve(needs, quota.sku_infos(SIZES)))
    assert (demand.pool, demand.vcpus) == ("standardDSv2Family", (2 + 2 + 2) * 4)


def test_enough_quota_passes_and_reports_each_pool(repo_root, profile):
    lines = []
    report = quota.check(client(usages(dsv2_used=0, dsv2_limit=24)), repo_needs(repo_root, profile), echo=lines.append)
    assert report[0].startswith("VM family standardDSv2Family: need 24 vCPUs, 24 free (24 - 0 in use)")
    assert report[1].startswith("all dedicated vCPUs (regional): need 24 vCPUs, 100 free")
    assert lines[-1] == "quota: enough for standardDSv2Family (24 vCPUs)"


def test_not_enough_quota_names_sku_family_needed_available_and_what_to_do(repo_root, profile):
    with pytest.raises(MlopsError) as caught:
        quota.check(client(usages(dsv2_used=4, dsv2_limit=24)), repo_needs(repo_root, profile), echo=lambda _: None)
    message = str(caught.value)
    assert "VM family standardDSv2Family: need 24 vCPUs but only 20 are available (limit 24 - current usage 4)" in (
        message
    )
    assert "Standard_DS3_v2 x 2 (ceil(1.2 x 1)) x 4 vCPUs [online/blue.yml]" in message
    assert "--instance-type Standard_DS2_v2" in message and "request more quota" in message


def test_the_dev_override_to_a_smaller_sku_fits_where_the_yaml_default_does_not(repo_root, profile):
    small = client(usages(dsv2_used=0, dsv2_limit=16))
    with pytest.raises(MlopsError, match="need 24 vCPUs but only 16"):
        quota.check(small, repo_needs(repo_root, profile), echo=lambda _: None)
    quota.check(small, repo_needs(repo_root, profile, instance_type="Standard_DS2_v2"), echo=lambda _: None)  # 8 + 8


def test_the_regional_total_is_checked_too(repo_root, profile):
    with pytest.raises(MlopsError, match=r"all dedicated vCPUs \(regional\): need 24 vCPUs but only 10"):
        quota.check(client(usages(total_used=90, total_limit=100)), repo_needs(repo_root, profile), echo=lambda _: None)


def test_an_unknown_sku_is_refused_with_near_matches(repo_root, profile):
    with pytest.raises(MlopsError) as caught:
        needs = repo_needs(repo_root, profile, instance_type="Standard_DS3_v3")
        quota.check(client(usages()), needs, echo=lambda _: None)
    message = str(caught.value)
    assert "online/blue.yml with --instance-type: VM size Standard_DS3_v3 is not offered" in message
    assert "Standard_DS3_v2" in message.split("near matches:")[1]


def test_a_family_missing_from_the_usage_list_is_an_error_not_a_pass(repo_root, profile):
    only_fsv2 = [u for u in usages() if "DSv2" not in u.name["value"]]
    with pytest.raises(MlopsError, match="VM family standardDSv2Family: no quota entry") as caught:
        quota.check(client(only_fsv2), repo_needs(repo_root, profile), echo=lambda _: None)
    assert "Standard FSv2 Family Cluster Dedicated vCPUs" in str(caught.value)


def test_without_a_regional_total_only_the_family_is_checked(repo_root, profile):
    family_only = [u for u in usages() if "Total" not in u.name["value"]]
    report = quota.check(client(family_only), repo_needs(repo_root, profile), echo=lambda _: None)
    assert len(report) == 1


def test_bicepparam_errors_name_the_file_and_parameter(tmp_path):
    file = tmp_path / "dev.bicepparam"
    file.write_text("using 'main.bicep'\nparam computeClusterVmSize = 'Standard_DS3_v2' // the size\n")
    with pytest.raises(MlopsError, match=r"dev.bicepparam: no `param computeClusterMaxNodes = \.\.\.`"):
        quota.cluster_need(file)
    file.write_text("param computeClusterVmSize = 'Standard_DS3_v2'\nparam computeClusterMaxNodes = many\n")
    with pytest.raises(MlopsError, match="computeClusterMaxNodes must be a whole number, not 'many'"):
        quota.cluster_need(file)
    with pytest.raises(MlopsError, match="file not found"):
        quota.cluster_need(tmp_path / "prod.bicepparam")


def test_a_low_priority_cluster_counts_against_the_regional_low_priority_pool(tmp_path):
    file = tmp_path / "dev.bicepparam"
    file.write_text(
        "param computeClusterVmSize = 'Standard_DS3_v2'\nparam computeClusterVmPriority = 'LowPriority'\n"
        "param computeClusterMaxNodes = 4\n"
    )
    need = quota.cluster_need(file)
    rows = quota.usage_rows([usage("Total Cluster LowPriority Regional vCPUs", 10, 20, "lowPriorityCores")])
    _, problems = quota.shortfalls(quota.demands(quota.resolve([need], quota.sku_infos(SIZES))), rows)
    assert problems == [
        "low-priority vCPUs (regional): need 16 vCPUs but only 10 are available (limit 20 - current usage 10) for "
        "Standard_DS3_v2 x 4 x 4 vCPUs [" + tmp_path.name + "/dev.bicepparam computeClusterVmSize x "
        "computeClusterMaxNodes]"
    ]


def test_the_sdk_entities_keep_wire_names_so_both_spellings_are_read():
    """azure-ai-ml 1.35 leaves VmSize.v_cp_us and Usage.current_value None (values land under vCPUs and
    currentValue): the reader must not depend on either spelling."""
    size, row = SIZES[2], usages(dsv2_used=3)[1]
    assert quota.sku_infos([size])["standard_ds3_v2"].vcpus == 4
    assert quota.usage_rows([row])[0].current == 3
    plain = SimpleNamespace(name="Standard_DS3_v2", family="standardDSv2Family", v_cp_us=4)
    assert quota.sku_infos([plain])["standard_ds3_v2"].vcpus == 4


def test_the_profile_sets_the_online_size_and_the_flags_win(tmp_path, repo_root):
    file = tmp_path / "dev.bicepparam"
    file.write_text(CLUSTER + "param onlineInstanceType = 'Standard_DS1_v2'\nparam onlineInstanceCount = 1\n")
    assert quota.profile_online(file) == ("Standard_DS1_v2", 1)
    file.write_text(CLUSTER)
    assert quota.profile_online(file) == (None, None)
    file.write_text(CLUSTER + "param onlineInstanceCount = some\n")
    with pytest.raises(MlopsError, match="onlineInstanceCount must be a whole number, not 'some'"):
        quota.profile_online(file)


def test_the_cli_reads_the_profile_and_exits_2_with_the_reason(repo_root, monkeypatch, capsys):
    from mlops.cli import azure_verbs, main

    monkeypatch.chdir(repo_root)
    monkeypatch.setattr(azure_verbs, "azure_client", lambda project: client(usages(dsv2_limit=2)))
    assert main(["azure", "quota", "--profile", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: not enough vCPU quota: VM family standardDSv2Family: need ")
    assert "but only 2 are available (limit 2 - current usage 0)" in err
    assert "dev.bicepparam computeClusterVmSize x computeClusterMaxNodes" in err
    monkeypatch.setattr(azure_verbs, "azure_client", lambda project: client(usages(dsv2_limit=1000)))
    assert main(["azure", "quota", "--profile", "prod", "--instance-type", "Standard_DS2_v2"]) == 0
    out = capsys.readouterr().out
    assert "Standard_DS2_v2" in out and "with --instance-type/--instance-count" in out
    assert "quota: enough for standardDSv2Family" in out
