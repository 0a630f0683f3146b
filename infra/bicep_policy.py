"""The security and cost contract of the Bicep templates, as checks over pycep-parser's JSON.

Each check takes parsed templates (dicts from check_bicep.parse_bicep) and returns a list of problems, empty when
the template complies, so tests/contract/test_infra.py runs them on infra/ and tests/negative runs them on broken
copies. checkov covers generic rules; these cover what this template promises (see infra/README.md) and what
checkov cannot see because it does not evaluate parameters.

`Scope` evaluates the small subset of Bicep expressions the templates use for wiring (parameters, variables,
`cond ? a : b`, `==`, `!=`, `!`, `&&`, `||`, `empty()`, property access, string interpolation of names), so a
check can ask "with enableNetworkIsolation = true, what publicNetworkAccess does the storage account get?".
Anything else evaluates to UNKNOWN. pycep-parser writes a reference to a parameter and a string literal the same
way ("x"); a string that names a parameter or variable in scope is read as the reference.

The security switches (SECURE_VALUES, SETTINGS) are listed once here: which resource property each one controls,
the value prod must resolve to and the value dev keeps. `parameter_file_problems` evaluates a .bicepparam file
against that list, so prod.bicepparam cannot drift back to a dev value without a failing test naming the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILT_IN_ROLES = {
    "f6c7c914-8db3-469d-8ca1-694a8f32e121": "AzureML Data Scientist",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
}

# Preview API versions allowed, with the reason. Resource-level diagnostic settings have no GA API version that
# supports `categoryGroup` and metric categories: the only GA one (2016-09-01) is the legacy 'service' setting.
ALLOWED_PREVIEW_API_VERSIONS = {
    ("Microsoft.Insights/diagnosticSettings", "2021-05-01-preview"): "no GA version for resource diagnostic settings",
}

WORKSPACE = "Microsoft.MachineLearningServices/workspaces"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes"
STORAGE = "Microsoft.Storage/storageAccounts"
APP_INSIGHTS = "Microsoft.Insights/components"
LOG_ANALYTICS = "Microsoft.OperationalInsights/workspaces"
MONITOR_SCOPE = "Microsoft.Insights/privateLinkScopes"
PRIVATE_ENDPOINT = "Microsoft.Network/privateEndpoints"

# Private DNS zones of the client virtual network, as written in the templates (the blob zone is written with
# environment() so it follows the cloud; compared unevaluated): the workspace's endpoint (group amlworkspace) and
# the Azure Monitor Private Link Scope's (group azuremonitor).
PRIVATE_DNS_ZONES = {
    "privatelink.api.azureml.ms",
    "privatelink.notebooks.azure.net",
    "privatelink.monitor.azure.com",
    "privatelink.oms.opinsights.azure.com",
    "privatelink.ods.opinsights.azure.com",
    "privatelink.agentsvc.azure-automation.net",
    "privatelink.blob.${environment().suffixes.storage}",
}
PRIVATE_ENDPOINT_GROUPS = {"amlworkspace", "azuremonitor"}


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


# ---------------------------------------------------------------------------------------------------------------
# Reading templates
# ---------------------------------------------------------------------------------------------------------------


def resources(template: dict[str, Any], type_: str | None = None) -> dict[str, dict[str, Any]]:
    """Declared (not `existing`) resources, optionally of one type (case-insensitive)."""
    return {
        name: resource
        for name, resource in template.get("resources", {}).items()
        if not resource.get("existing") and (type_ is None or resource.get("type", "").lower() == type_.lower())
    }


def body(resource_or_module: dict[str, Any]) -> dict[str, Any]:
    """The object after `=`, unwrapped from `if (...)` and `[for ...]`."""
    config = resource_or_module.get("config", {})
    while isinstance(config, dict) and "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config


def condition(resource_or_module: dict[str, Any]) -> Any:
    """The `if (...)` expression, or True when it is always deployed."""
    config = resource_or_module.get("config", {})
    cond = config.get("condition") if isinstance(config, dict) else None
    return True if cond is None else cond


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def parse_bicepparam_values(text: str) -> dict[str, str]:
    """`param name = value` lines of a .bicepparam file (values as written: true, 'text', 4)."""
    values = {}
    for line in text.splitlines():
        match = re.match(r"^\s*param\s+(\w+)\s*=\s*(.+?)\s*$", line.split("//", 1)[0])
        if match:
            values[match.group(1)] = match.group(2)
    return values


def bicepparam_literal(raw: str) -> Any:
    """A value as written in a .bicepparam file, as Python: true -> True, 'text' -> 'text', 4 -> 4; UNKNOWN for
    anything else (objects, arrays, expressions), which the checks then treat as not the expected value."""
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    match = re.fullmatch(r"'((?:[^'\\]|\\.)*)'", raw)
    return match.group(1).replace("\\'", "'") if match else UNKNOWN


def branches(expr: Any) -> list[Any]:
    """Every value a `cond ? a : b` expression can take (nested ones too); the expression itself otherwise."""
    if dig(expr, "operator", "type") == "conditional":
        operands = expr["operator"]["operands"]
        return branches(operands.get("true_value")) + branches(operands.get("false_value"))
    return [expr]


# ---------------------------------------------------------------------------------------------------------------
# Evaluating the wiring
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """Parameters and variables of one template, with some parameters set (like a deployment's parameter file)."""

    template: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        return name in self.template.get("parameters", {}) or name in self.template.get("variables", {})

    def lookup(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name not in self._cache:
            self._cache[name] = UNKNOWN  # guards against cycles
            params, variables = self.template.get("parameters", {}), self.template.get("variables", {})
            if name in params:
                self._cache[name] = self.eval(params[name]["default"]) if "default" in params[name] else UNKNOWN
            elif name in variables:
                self._cache[name] = self.eval(variables[name].get("value"))
        return self._cache[name]

    def eval(self, expr: Any) -> Any:
        if expr is None or isinstance(expr, bool | int | float):
            return expr
        if isinstance(expr, str):
            if self.has(expr):
                return self.lookup(expr)
            if "${" in expr:
                return self._interpolate(expr)
            return expr
        if isinstance(expr, list):
            return [self.eval(item) for item in expr]
        if isinstance(expr, dict):
            if set(expr) == {"operator"}:
                return self._operator(expr["operator"])
            if set(expr) == {"function"}:
                return self._function(expr["function"])
            if "loop_type" in expr:
                return UNKNOWN
            return {key.strip("'"): self.eval(value) for key, value in expr.items()}
        return UNKNOWN

    def _interpolate(self, text: str) -> Any:
        parts = []
        for name in INTERPOLATION.findall(text):
            value = self.lookup(name.strip()) if self.has(name.strip()) else UNKNOWN
            if value is UNKNOWN:
                return UNKNOWN
            parts.append(str(value).lower() if isinstance(value, bool) else str(value))
        pieces = iter(parts)
        return INTERPOLATION.sub(lambda _: next(pieces), text)

    def _operator(self, op: dict[str, Any]) -> Any:
        kind, operands = op.get("type"), op.get("operands", {})
        if kind == "conditional":
            test = self.eval(operands.get("condition"))
            if test is True:
                return self.eval(operands.get("true_value"))
            if test is False:
                return self.eval(operands.get("false_value"))
            return UNKNOWN
        if kind == "property_accessor":
            return self._access(operands)
        if kind == "index_accessor":
            items, index = self.eval(operands.get("operand_1")), self.eval(operands.get("operand_2"))
            ok = isinstance(items, list) and isinstance(index, int) and -len(items) <= index < len(items)
            return items[index] if ok else UNKNOWN
        values = [self.eval(v) for v in operands.values()]
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        if kind == "not":
            return not values[0]
        if kind == "and":
            return all(values)
        if kind == "or":
            return any(values)
        if kind == "equals":
            return values[0] == values[1]
        if kind == "not_equals":
            return values[0] != values[1]
        return UNKNOWN

    def _access(self, operands: dict[str, Any]) -> Any:
        path: list[str] = []
        right = operands.get("operand_2")
        while isinstance(right, dict) and dig(right, "operator", "type") == "property_accessor":
            inner = right["operator"]["operands"]
            path.append(inner.get("operand_1"))
            right = inner.get("operand_2")
        path.append(right)
        value = self.eval(operands.get("operand_1"))
        for key in path:
            if not isinstance(key, str) or not isinstance(value, dict) or key not in value:
                return UNKNOWN
            value = value[key]
        return value

    def _function(self, fn: dict[str, Any]) -> Any:
        kind, args = fn.get("type"), [self.eval(v) for v in fn.get("parameters", {}).values()]
        if not args or any(a is UNKNOWN for a in args):
            return UNKNOWN
        if kind == "empty":
            return len(args[0]) == 0 if isinstance(args[0], str | list | dict) else args[0] is None
        if kind == "take" and isinstance(args[0], str | list) and isinstance(args[1], int):
            return args[0][: args[1]]
        if kind == "string" and isinstance(args[0], str | int | bool):
            return str(args[0]).lower() if isinstance(args[0], bool) else str(args[0])
        if kind == "to_lower" and isinstance(args[0], str):
            return args[0].lower()
        if kind == "replace" and all(isinstance(a, str) for a in args[:3]):
            return args[0].replace(args[1], args[2])
        return UNKNOWN


@dataclass
class Deployment:
    """main.bicep plus its local modules, evaluated for one set of parameter values."""

    main: dict[str, Any]
    modules: dict[str, dict[str, Any]]  # module path as written in main.bicep -> parsed module
    values: dict[str, Any] = field(default_factory=dict)

    def with_values(self, **values: Any) -> Deployment:
        return Deployment(self.main, self.modules, {**self.values, **values})

    @property
    def scope(self) -> Scope:
        return Scope(self.main, dict(self.values))

    def module_deployed(self, symbol: str) -> Any:
        return self.scope.eval(condition(self.main["modules"][symbol]))

    def module_scope(self, symbol: str) -> Scope:
        module = self.main["modules"][symbol]
        params = {name: self.scope.eval(expr) for name, expr in (body(module).get("params") or {}).items()}
        return Scope(self.modules[module["detail"]["path"]], params)

    def resource(self, module_symbol: str, resource_symbol: str) -> dict[str, Any]:
        """The resource's body with every expression evaluated (UNKNOWN where it depends on other resources)."""
        scope = self.module_scope(module_symbol)
        return scope.eval(body(scope.template["resources"][resource_symbol]))

    def resource_deployed(self, module_symbol: str, resource_symbol: str) -> Any:
        scope = self.module_scope(module_symbol)
        return scope.eval(condition(scope.template["resources"][resource_symbol]))


def load_deployment(main_path: Path, parse) -> Deployment:
    """Parse main.bicep and every local module it references (`parse` is check_bicep.parse_bicep)."""
    main = parse(main_path)
    modules = {}
    for module in main.get("modules", {}).values():
        path = module.get("detail", {}).get("path")
        if module.get("type") == "local" and path and (main_path.parent / path).is_file():
            modules[path] = parse(main_path.parent / path)
    return Deployment(main, modules)


def find_module(deployment: Deployment, resource_type: str) -> list[tuple[str, str]]:
    """(module symbol, resource symbol) of every declared resource of a type, across main's modules."""
    found = []
    for symbol, module in deployment.main.get("modules", {}).items():
        template = deployment.modules.get(module.get("detail", {}).get("path"), {})
        found += [(symbol, name) for name in resources(template, resource_type)]
    return found


# ---------------------------------------------------------------------------------------------------------------
# Checks on one template (literal values: a secure setting must not depend on a parameter)
# ---------------------------------------------------------------------------------------------------------------


def _expect(problems: list[str], where: str, actual: Any, expected: Any, key: str) -> None:
    if actual != expected or type(actual) is not type(expected):
        problems.append(f"{where}: {key} is {actual!r}, expected {expected!r}")


def key_vault_problems(template: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, resource in resources(template, "Microsoft.KeyVault/vaults").items():
        props = body(resource).get("properties", {})
        for key in ("enableRbacAuthorization", "enableSoftDelete", "enablePurgeProtection"):
            _expect(problems, f"key vault {name}", props.get(key), True, key)
    return problems


def container_registry_problems(template: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, resource in resources(template, "Microsoft.ContainerRegistry/registries").items():
        props = body(resource).get("properties", {})
        _expect(problems, f"registry {name}", props.get("adminUserEnabled"), False, "adminUserEnabled")
    return problems


def storage_problems(template: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, resource in resources(template, "Microsoft.Storage/storageAccounts").items():
        props = body(resource).get("properties", {})
        for key, expected in (
            ("allowBlobPublicAccess", False),
            ("minimumTlsVersion", "TLS1_2"),
            ("supportsHttpsTrafficOnly", True),
            ("allowCrossTenantReplication", False),
        ):
            _expect(problems, f"storage {name}", props.get(key), expected, key)
    return problems


def managed_identity_problems(template: dict[str, Any]) -> list[str]:
    """The workspace runs as a system-assigned identity (Azure ML then manages its role assignments); every compute
    cluster runs as a managed identity, system- or user-assigned, in every branch of its `identity` expression."""
    problems: list[str] = []
    for name, resource in resources(template, WORKSPACE).items():
        identity_type = dig(body(resource), "identity", "type")
        if not (isinstance(identity_type, str) and "SystemAssigned" in identity_type):
            problems.append(f"{name}: identity.type is {identity_type!r}, expected a SystemAssigned identity")
    for name, resource in resources(template, COMPUTE).items():
        if dig(body(resource), "properties", "computeType") != "AmlCompute":
            continue
        for identity in branches(dig(body(resource), "identity")):
            identity_type = dig(identity, "type")
            if identity_type not in ("SystemAssigned", "UserAssigned"):
                problems.append(f"{name}: identity.type is {identity_type!r}, expected SystemAssigned or UserAssigned")
    return problems


def compute_cost_problems(template: dict[str, Any]) -> list[str]:
    """Clusters scale to zero and release idle nodes; instances shut down when idle; no local auth or public SSH."""
    problems: list[str] = []
    for name, resource in resources(template, "Microsoft.MachineLearningServices/workspaces/computes").items():
        props = body(resource).get("properties", {})
        inner = props.get("properties", {})
        _expect(problems, f"compute {name}", props.get("disableLocalAuth"), True, "disableLocalAuth")
        if props.get("computeType") == "AmlCompute":
            scale = inner.get("scaleSettings", {})
            _expect(problems, f"cluster {name}", scale.get("minNodeCount"), 0, "scaleSettings.minNodeCount")
            idle = scale.get("nodeIdleTimeBeforeScaleDown")
            if not (isinstance(idle, str) and idle.startswith("PT")):
                problems.append(f"cluster {name}: scaleSettings.nodeIdleTimeBeforeScaleDown {idle!r} is not ISO 8601")
            _expect(problems, f"cluster {name}", inner.get("remoteLoginPortPublicAccess"), "Disabled", "ssh")
        elif props.get("computeType") == "ComputeInstance":
            idle = inner.get("idleTimeBeforeShutdown")
            if not (isinstance(idle, str) and idle.startswith("PT")):
                problems.append(f"instance {name}: idleTimeBeforeShutdown {idle!r} is not an ISO 8601 duration")
            _expect(problems, f"instance {name}", dig(inner, "sshSettings", "sshPublicAccess"), "Disabled", "ssh")
    return problems


def role_assignment_problems(template: dict[str, Any]) -> list[str]:
    """guid(scope, principal, role) names, built-in roles, ServicePrincipal principals and a description each."""
    problems: list[str] = []
    scope = Scope(template)
    for name, resource in resources(template, "Microsoft.Authorization/roleAssignments").items():
        config = body(resource)
        props = config.get("properties", {})
        description = props.get("description")
        if not (isinstance(description, str) and " " in description.strip()):
            problems.append(f"role assignment {name}: no description saying why it exists")
        guid = dig(config, "name", "function")
        if not (guid and guid.get("type") == "guid" and len(guid.get("parameters", {})) == 3):
            problems.append(f"role assignment {name}: name is not guid(scope, principal, role)")
        role = dig(props, "roleDefinitionId", "function")
        role_id = scope.eval(dig(role, "parameters", "resource_name_1")) if role else UNKNOWN
        if not role or role.get("type") != "subscription_resource_id" or role_id not in BUILT_IN_ROLES:
            problems.append(f"role assignment {name}: roleDefinitionId is not a known built-in role ({role_id!r})")
        _expect(problems, f"role assignment {name}", props.get("principalType"), "ServicePrincipal", "principalType")
    return problems


def role_assignment_comment_problems(text: str) -> list[str]:
    """Each role assignment is preceded by a `//` comment (the why, for readers of the template)."""
    problems = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^resource\s+(\w+)\s+'Microsoft\.Authorization/roleAssignments@", line.strip())
        if match and (i == 0 or not lines[i - 1].strip().startswith("//")):
            problems.append(f"role assignment {match.group(1)} (line {i + 1}): no comment above it")
    return problems


def api_version_problems(template: dict[str, Any]) -> list[str]:
    """No preview API versions, except the allow-listed ones (with their reason)."""
    problems = []
    for name, resource in template.get("resources", {}).items():
        key = (resource.get("type", ""), resource.get("api_version", ""))
        if "preview" in key[1].lower() and key not in ALLOWED_PREVIEW_API_VERSIONS:
            problems.append(f"{name}: {key[0]}@{key[1]} is a preview API version")
    return problems


def missing_module_files(main_path: Path, template: dict[str, Any]) -> list[str]:
    return [
        f"module {symbol}: {module['detail']['path']} not found"
        for symbol, module in template.get("modules", {}).items()
        if module.get("type") == "local" and not (main_path.parent / module["detail"]["path"]).is_file()
    ]


# ---------------------------------------------------------------------------------------------------------------
# Checks on the whole deployment (wiring from main.bicep's switches into the modules)
# ---------------------------------------------------------------------------------------------------------------


def network_isolation_problems(deployment: Deployment, isolated: bool) -> list[str]:
    """What enableNetworkIsolation must do to every public endpoint, the managed network and the private endpoint."""
    problems: list[str] = []
    d = deployment.with_values(enableNetworkIsolation=isolated)
    public = "Disabled" if isolated else "Enabled"
    mode = "AllowOnlyApprovedOutbound" if isolated else "Disabled"

    def expect(where: str, actual: Any, expected: Any, key: str) -> None:
        _expect(problems, f"isolation={isolated}: {where}", actual, expected, key)

    for module, res in find_module(d, "Microsoft.MachineLearningServices/workspaces"):
        props = d.resource(module, res).get("properties", {})
        expect(f"workspace {res}", props.get("publicNetworkAccess"), public, "publicNetworkAccess")
        expect(f"workspace {res}", dig(props, "managedNetwork", "isolationMode"), mode, "managedNetwork.isolationMode")
    for type_, label in (
        ("Microsoft.Storage/storageAccounts", "storage"),
        ("Microsoft.KeyVault/vaults", "key vault"),
        ("Microsoft.ContainerRegistry/registries", "registry"),
    ):
        for module, res in find_module(d, type_):
            config = d.resource(module, res)
            expect(f"{label} {res}", dig(config, "properties", "publicNetworkAccess"), public, "publicNetworkAccess")
            if label != "registry":
                acl = dig(config, "properties", "networkAcls", "defaultAction")
                expect(f"{label} {res}", acl, "Deny" if isolated else "Allow", "networkAcls.defaultAction")
            elif isolated:
                expect(f"{label} {res}", dig(config, "sku", "name"), "Premium", "sku.name")
    for module, res in find_module(d, "Microsoft.MachineLearningServices/workspaces/computes"):
        inner = dig(d.resource(module, res), "properties", "properties") or {}
        expect(f"compute {res}", inner.get("enableNodePublicIp"), not isolated, "enableNodePublicIp")
    endpoints = find_module(d, PRIVATE_ENDPOINT)
    zones = find_module(d, "Microsoft.Network/privateDnsZones")
    if not endpoints or not zones:
        problems.append("no private endpoint or private DNS zone module")
    for module, _ in endpoints + zones + find_module(d, "Microsoft.Network/virtualNetworks"):
        expect(f"module {module}", d.module_deployed(module), isolated, "deployed")
    groups = {
        group
        for module, res in endpoints
        for conn in dig(d.resource(module, res), "properties", "privateLinkServiceConnections") or []
        for group in dig(conn, "properties", "groupIds") or []
    }
    if groups != PRIVATE_ENDPOINT_GROUPS:
        problems.append(f"private endpoints: groupIds {sorted(groups)} != {sorted(PRIVATE_ENDPOINT_GROUPS)}")
    names = {
        name
        for module in dict(zones)
        for name in dig(d.module_scope(module).template, "variables", "privateDnsZoneNames", "value") or []
    }
    if names != PRIVATE_DNS_ZONES:
        problems.append(f"private DNS zones {sorted(names)} != {sorted(PRIVATE_DNS_ZONES)}")
    return problems


def shared_key_problems(deployment: Deployment, allow_shared_key: bool) -> list[str]:
    """allowStorageSharedKeyAccess=false refuses keys on the account, switches Azure ML to identity access and gives
    the cluster a user-assigned identity."""
    return switch_problems(deployment, "allowStorageSharedKeyAccess", allow_shared_key)


# ---------------------------------------------------------------------------------------------------------------
# The security switches: what each resolves to in dev and in prod (infra/README.md, "Dev and prod")
# ---------------------------------------------------------------------------------------------------------------

# The value of each switch that prod.bicepparam must set; main.bicep's defaults are the dev (open) values.
SECURE_VALUES: dict[str, Any] = {
    "enableNetworkIsolation": True,
    "allowStorageSharedKeyAccess": False,
    "allowAppInsightsLocalAuth": False,
    "monitorPublicNetworkAccessForIngestion": "Disabled",
    "monitorPublicNetworkAccessForQuery": "Disabled",
}


@dataclass(frozen=True)
class Setting:
    """One resource property a switch controls, with the value it must take in prod (secure) and in dev (open).
    `path` None means "is the resource deployed"; `compute_type` narrows computes to clusters or instances."""

    parameter: str
    resource_type: str
    path: tuple[str, ...] | None
    secure: Any
    open: Any
    compute_type: str | None = None

    @property
    def key(self) -> str:
        return "deployed" if self.path is None else ".".join(self.path)


SETTINGS = (
    Setting("enableNetworkIsolation", WORKSPACE, ("properties", "publicNetworkAccess"), "Disabled", "Enabled"),
    Setting("enableNetworkIsolation", STORAGE, ("properties", "publicNetworkAccess"), "Disabled", "Enabled"),
    Setting("enableNetworkIsolation", MONITOR_SCOPE, None, True, False),
    Setting("allowStorageSharedKeyAccess", STORAGE, ("properties", "allowSharedKeyAccess"), False, True),
    Setting(
        "allowStorageSharedKeyAccess", WORKSPACE, ("properties", "systemDatastoresAuthMode"), "Identity", "AccessKey"
    ),
    Setting(
        "allowStorageSharedKeyAccess", COMPUTE, ("identity", "type"), "UserAssigned", "SystemAssigned", "AmlCompute"
    ),
    Setting("allowAppInsightsLocalAuth", APP_INSIGHTS, ("properties", "DisableLocalAuth"), True, False),
    *(
        Setting(
            f"monitorPublicNetworkAccessFor{kind}",
            type_,
            ("properties", f"publicNetworkAccessFor{kind}"),
            "Disabled",
            "Enabled",
        )
        for kind in ("Ingestion", "Query")
        for type_ in (APP_INSIGHTS, LOG_ANALYTICS)
    ),
)

LABELS = {
    WORKSPACE: "workspace",
    COMPUTE: "cluster",
    STORAGE: "storage",
    APP_INSIGHTS: "application insights",
    LOG_ANALYTICS: "log analytics",
    MONITOR_SCOPE: "monitor private link scope",
}


def resolve_settings(deployment: Deployment, values: dict[str, Any]) -> list[tuple[Setting, str, Any]]:
    """(setting, which resource, the value it resolves to) for every setting, with `values` set (e.g. a .bicepparam
    file); a setting that finds no resource resolves to UNKNOWN, so a check on it fails instead of passing vacuously."""
    d = deployment.with_values(**values)
    resolved = []
    for setting in SETTINGS:
        found = 0
        for module, res in find_module(d, setting.resource_type):
            config = d.resource(module, res)
            if setting.compute_type and dig(config, "properties", "computeType") != setting.compute_type:
                continue
            if setting.path is None:
                deployed = d.module_deployed(module), d.resource_deployed(module, res)
                actual = UNKNOWN if UNKNOWN in deployed else all(deployed)
            else:
                actual = dig(config, *setting.path)
            resolved.append((setting, f"{LABELS[setting.resource_type]} {res}", actual))
            found += 1
        if not found:
            resolved.append((setting, f"no {LABELS[setting.resource_type]}", UNKNOWN))
    return resolved


def _mismatch(actual: Any, expected: Any) -> bool:
    return actual != expected or type(actual) is not type(expected)


def switch_problems(deployment: Deployment, parameter: str, value: Any) -> list[str]:
    """With one switch set, every property it controls takes its secure or its open value."""
    secure = value == SECURE_VALUES[parameter]
    problems = []
    for setting, where, actual in resolve_settings(deployment, {parameter: value}):
        expected = setting.secure if secure else setting.open
        if setting.parameter == parameter and _mismatch(actual, expected):
            problems.append(f"{parameter}={value!r}: {where}: {setting.key} is {actual!r}, expected {expected!r}")
    return problems


def _bicep(value: Any) -> str:
    """A value as a .bicepparam file writes it."""
    return str(value).lower() if isinstance(value, bool) else f"'{value}'" if isinstance(value, str) else str(value)


def parameter_file_values(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """(values as written, values as Python) of a .bicepparam file."""
    raw = parse_bicepparam_values(path.read_text(encoding="utf-8"))
    return raw, {name: bicepparam_literal(text) for name, text in raw.items()}


def parameter_file_problems(deployment: Deployment, path: Path, secure: bool) -> list[str]:
    """What a parameter file gets wrong: with secure=True (prod), every switch must be set in the file (not left to
    main.bicep's dev default) and every property it controls must resolve to its secure value; with secure=False
    (dev), to its open value. Either way, monitoring without public access needs network isolation (the private link
    scope is its only way in). Each problem names the file and the switch."""
    raw, values = parameter_file_values(path)
    problems = []
    if secure:
        problems += [
            f"{path.name}: {name} is not set; main.bicep's default is the dev value, prod must set {_bicep(value)}"
            for name, value in SECURE_VALUES.items()
            if name not in raw
        ]
    for setting, where, actual in resolve_settings(deployment, values):
        expected = setting.secure if secure else setting.open
        if _mismatch(actual, expected):
            written = raw.get(setting.parameter, "(not set)")
            problems.append(
                f"{path.name}: {setting.parameter} = {written} leaves {where} {setting.key} {actual!r}, "
                f"expected {expected!r}"
            )
    scope = deployment.with_values(**values).scope
    if scope.lookup("enableNetworkIsolation") is not True:
        for name in ("monitorPublicNetworkAccessForIngestion", "monitorPublicNetworkAccessForQuery"):
            if scope.lookup(name) == "Disabled":
                problems.append(
                    f"{path.name}: {name} = 'Disabled' needs enableNetworkIsolation = true: without the virtual "
                    "network there is no Azure Monitor Private Link Scope, so nothing could reach the data"
                )
    return problems


def monitor_private_link_problems(deployment: Deployment) -> list[str]:
    """The Azure Monitor Private Link Scope holds the template's Log Analytics workspace and Application Insights
    component, and lets the network reach nothing else (PrivateOnly)."""
    problems: list[str] = []
    d = deployment.with_values(enableNetworkIsolation=True)
    scopes = find_module(d, MONITOR_SCOPE)
    if not scopes:
        return ["no Azure Monitor Private Link Scope"]
    for module, res in scopes:
        modes = dig(d.resource(module, res), "properties", "accessModeSettings") or {}
        for key in ("ingestionAccessMode", "queryAccessMode"):
            _expect(problems, f"monitor private link scope {res}", modes.get(key), "PrivateOnly", key)
        template = d.module_scope(module).template
        linked = dig(template, "variables", "scopedResourceIds", "value") or []
        params = body(d.main["modules"][module]).get("params") or {}
        sources = {_output_of(params.get(name)) for name in linked}
        wanted = {symbol for type_ in (LOG_ANALYTICS, APP_INSIGHTS) for symbol, _ in find_module(d, type_)}
        if sources != wanted:
            problems.append(
                f"module {module}: scoped resources come from {sorted(map(str, sources))}, not {sorted(wanted)}"
            )
    return problems


def _output_of(expr: Any) -> str | None:
    """`logAnalytics.outputs.id` -> 'logAnalytics' (the module whose output a parameter is given)."""
    operands = dig(expr, "operator", "operands") or {}
    inner = dig(operands.get("operand_2"), "operator", "operands") or {}
    if dig(expr, "operator", "type") == "property_accessor" and inner.get("operand_1") == "outputs":
        return operands.get("operand_1")
    return None


def ci_role_problems(deployment: Deployment) -> list[str]:
    """An empty ciPrincipalId deploys no CI role assignment; a set one deploys AzureML Data Scientist."""
    problems: list[str] = []
    for principal, expected in (("", False), ("00000000-0000-0000-0000-000000000001", True)):
        d = deployment.with_values(ciPrincipalId=principal)
        data_scientist = False
        for module, res in find_module(d, "Microsoft.Authorization/roleAssignments"):
            config = d.resource(module, res)
            if config.get("properties", {}).get("principalId") != principal:
                continue
            deployed = d.resource_deployed(module, res)
            if not expected and deployed is not False:
                problems.append(f"ciPrincipalId='': {res} is deployed ({deployed!r})")
            raw = dig(body(d.module_scope(module).template["resources"][res]), "properties", "roleDefinitionId")
            role_id = d.module_scope(module).eval(dig(raw, "function", "parameters", "resource_name_1"))
            if BUILT_IN_ROLES.get(role_id) == "AzureML Data Scientist":
                data_scientist = True
                if expected and deployed is not True:
                    problems.append(f"ciPrincipalId set: {res} (AzureML Data Scientist) is not deployed ({deployed!r})")
        if expected and not data_scientist:
            problems.append("ciPrincipalId set: no AzureML Data Scientist assignment for the CI principal")
    return problems


def compute_twin_problems(
    cluster_yaml: dict[str, Any], instance_yaml: dict[str, Any], deployment: Deployment
) -> list[str]:
    """infra/azureml/compute-*.yml (the `az ml compute create` twins) equal the Bicep defaults."""
    problems: list[str] = []
    cluster_name = deployment.scope.lookup("computeClusterName")
    cluster_config = deployment.resource("computeCluster", "cluster")
    cluster = dig(cluster_config, "properties", "properties") or {}
    identities = {"SystemAssigned": "system_assigned", "UserAssigned": "user_assigned"}
    scale = cluster.get("scaleSettings", {})
    tiers = {"dedicated": "Dedicated", "low_priority": "LowPriority"}
    idle = cluster_yaml.get("idle_time_before_scale_down")
    for key, yaml_value, bicep_value in (
        ("name", cluster_yaml.get("name"), cluster_name),
        ("size", cluster_yaml.get("size"), cluster.get("vmSize")),
        ("min_instances", cluster_yaml.get("min_instances"), scale.get("minNodeCount")),
        ("max_instances", cluster_yaml.get("max_instances"), scale.get("maxNodeCount")),
        ("idle_time_before_scale_down", f"PT{idle}S", scale.get("nodeIdleTimeBeforeScaleDown")),
        ("tier", tiers.get(cluster_yaml.get("tier")), cluster.get("vmPriority")),
        (
            "identity.type",
            dig(cluster_yaml, "identity", "type"),
            identities.get(dig(cluster_config, "identity", "type")),
        ),
    ):
        if yaml_value != bicep_value:
            problems.append(f"compute-cluster.yml {key}: {yaml_value!r} here, {bicep_value!r} in Bicep")
    instance = (
        dig(
            deployment.with_values(deployComputeInstance=True).resource("computeInstance", "instance"),
            "properties",
            "properties",
        )
        or {}
    )
    minutes = instance_yaml.get("idle_time_before_shutdown_minutes")
    for key, yaml_value, bicep_value in (
        ("size", instance_yaml.get("size"), instance.get("vmSize")),
        ("idle_time_before_shutdown_minutes", f"PT{minutes}M", instance.get("idleTimeBeforeShutdown")),
    ):
        if yaml_value != bicep_value:
            problems.append(f"compute-instance.yml {key}: {yaml_value!r} here, {bicep_value!r} in Bicep")
    return problems


def workspace_twin_problems(workspace_yaml: dict[str, Any], deployment: Deployment) -> list[str]:
    """infra/azureml/workspace.yml (the `az ml workspace create` twin) equals the workspace Bicep deploys with
    main.bicep's defaults (the dev settings). The CLI writes enum values in lower case."""
    problems: list[str] = []
    workspace = deployment.resource("workspace", "workspace")
    props = workspace.get("properties", {})
    for key, yaml_value, bicep_value in (
        ("name", workspace_yaml.get("name"), deployment.scope.lookup("names").get("workspace")),
        ("display_name", workspace_yaml.get("display_name"), props.get("friendlyName")),
        ("public_network_access", workspace_yaml.get("public_network_access"), props.get("publicNetworkAccess")),
        (
            "managed_network.isolation_mode",
            dig(workspace_yaml, "managed_network", "isolation_mode"),
            dig(props, "managedNetwork", "isolationMode"),
        ),
        (
            "system_datastores_auth_mode",
            workspace_yaml.get("system_datastores_auth_mode"),
            props.get("systemDatastoresAuthMode"),
        ),
    ):
        if str(yaml_value).lower() != str(bicep_value).lower():
            problems.append(f"workspace.yml {key}: {yaml_value!r} here, {bicep_value!r} in Bicep")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Operations: alerts, autoscale, budget, the dev quota profile, saved queries (infra/README.md, "Alerts" onwards)
# ---------------------------------------------------------------------------------------------------------------

ACTION_GROUP = "Microsoft.Insights/actionGroups"
METRIC_ALERT = "Microsoft.Insights/metricAlerts"
LOG_ALERT = "Microsoft.Insights/scheduledQueryRules"
AUTOSCALE = "Microsoft.Insights/autoscalesettings"
BUDGET = "Microsoft.Consumption/budgets"
ONLINE_DEPLOYMENT = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"

# vCPUs of the VM sizes the parameter files may name (Azure ML's managed online endpoint SKU list and the VM size
# pages). A size missing here fails the quota check instead of passing it.
VCPUS = {
    "Standard_DS1_v2": 1,
    "Standard_DS2_v2": 2,
    "Standard_DS3_v2": 4,
    "Standard_DS4_v2": 8,
    "Standard_DS11_v2": 2,
    "Standard_F2s_v2": 2,
    "Standard_F4s_v2": 4,
}
# Managed online deployments reserve ceil(1.2 x instances) x vCPUs for upgrades (Azure ML quota docs).
ONLINE_UPGRADE_RESERVE = 1.2
# Deployments alive at once during a blue/green rollout (endpoints/online: blue and green).
ROLLOUT_DEPLOYMENTS = 2

# Log Analytics tables the saved queries may read, each documented in infra/README.md ("Saved queries").
QUERY_TABLES = {"AmlOnlineEndpointTrafficLog", "AmlOnlineEndpointConsoleLog", "AmlRunStatusChangedEvent"}


def id_of(expr: Any) -> str | None:
    """`symbol.id` -> 'symbol'; None for anything else."""
    operands = dig(expr, "operator", "operands") or {}
    if dig(expr, "operator", "type") == "property_accessor" and operands.get("operand_2") == "id":
        symbol = operands.get("operand_1")
        return symbol if isinstance(symbol, str) else None
    return None


def _all_resources(template: dict[str, Any], type_: str | None = None) -> dict[str, dict[str, Any]]:
    """Every resource, `existing` ones included (what a scope may reference)."""
    return {
        name: r
        for name, r in template.get("resources", {}).items()
        if type_ is None or r.get("type", "").lower() == type_.lower()
    }


def alert_problems(template: dict[str, Any]) -> list[str]:
    """Every metric and log alert scopes resources the template declares (created or `existing`) by `<symbol>.id`,
    and notifies an action group the template declares, the same way."""
    problems: list[str] = []
    declared = _all_resources(template)
    groups = set(_all_resources(template, ACTION_GROUP))
    for type_ in (METRIC_ALERT, LOG_ALERT):
        for name, resource in resources(template, type_).items():
            props = body(resource).get("properties", {})
            scopes = props.get("scopes") or []
            if not scopes:
                problems.append(f"alert {name}: no scopes")
            for scope in scopes:
                if id_of(scope) not in declared:
                    problems.append(f"alert {name}: scope {scope!r} is not `<resource>.id` of a declared resource")
            actions = props.get("actions")
            if type_ == METRIC_ALERT:
                targets = [dig(a, "actionGroupId") for a in actions or []]
            else:
                targets = dig(actions, "actionGroups") or []
            if not targets:
                problems.append(f"alert {name}: no action group")
            for target in targets:
                if id_of(target) not in groups:
                    problems.append(f"alert {name}: action {target!r} is not `<action group>.id` of an action group")
    return problems


def alert_descriptions_problems(template: dict[str, Any]) -> list[str]:
    """Every threshold parameter of an alert template says what it measures (a description)."""
    problems = []
    for name, param in template.get("parameters", {}).items():
        texts = [dig(d, "argument") for d in param.get("decorators", []) if dig(d, "type") == "description"]
        if not any(isinstance(t, str) and " " in t for t in texts):
            problems.append(f"parameter {name}: no description")
    return problems


def autoscale_problems(template: dict[str, Any], values: dict[str, Any] | None = None) -> list[str]:
    """Every autoscale setting targets an online deployment, has scale-out and scale-in rules on CPU and on requests,
    and minimum <= default <= maximum (with the template's defaults, or `values`)."""
    problems: list[str] = []
    scope = Scope(template, dict(values or {}))
    deployments = set(_all_resources(template, ONLINE_DEPLOYMENT))
    for name, resource in resources(template, AUTOSCALE).items():
        props = body(resource).get("properties", {})
        if id_of(props.get("targetResourceUri")) not in deployments:
            problems.append(f"autoscale {name}: targetResourceUri is not an online deployment's id")
        profiles = props.get("profiles") or []
        if not profiles:
            problems.append(f"autoscale {name}: no profile")
        for profile in profiles:
            capacity = scope.eval(profile.get("capacity") or {})
            numbers = [capacity.get(k) for k in ("minimum", "default", "maximum")]
            if not all(isinstance(n, str) and n.isdigit() for n in numbers):
                problems.append(f"autoscale {name}: capacity {numbers!r} does not resolve to numbers")
            elif not int(numbers[0]) <= int(numbers[1]) <= int(numbers[2]):
                problems.append(f"autoscale {name}: capacity min/default/max {numbers} not min <= default <= max")
            rules = {
                (dig(rule, "metricTrigger", "metricName"), dig(rule, "scaleAction", "direction"))
                for rule in profile.get("rules") or []
            }
            for metric in ("CpuUtilizationPercentage", "RequestsPerMinute"):
                for direction in ("Increase", "Decrease"):
                    if (metric, direction) not in rules:
                        problems.append(f"autoscale {name}: no {direction} rule on {metric}")
    return problems


def budget_problems(template: dict[str, Any]) -> list[str]:
    """Budgets: Cost, Monthly, start date from a parameter, and notifications on actual and forecasted spend, each
    enabled and sent to someone (contact e-mails or an action group)."""
    problems: list[str] = []
    for name, resource in resources(template, BUDGET).items():
        props = body(resource).get("properties", {})
        _expect(problems, f"budget {name}", props.get("category"), "Cost", "category")
        _expect(problems, f"budget {name}", props.get("timeGrain"), "Monthly", "timeGrain")
        if not dig(props, "timePeriod", "startDate"):
            problems.append(f"budget {name}: no timePeriod.startDate")
        notifications = props.get("notifications") or {}
        kinds = {n.get("thresholdType") for n in notifications.values()}
        if not {"Actual", "Forecasted"} <= kinds:
            problems.append(f"budget {name}: notifications {sorted(map(str, kinds))} lack Actual or Forecasted")
        for key, note in notifications.items():
            _expect(problems, f"budget {name} {key}", note.get("enabled"), True, "enabled")
            if not (note.get("contactEmails") or note.get("contactGroups")):
                problems.append(f"budget {name} {key}: nobody is notified")
    return problems


def vcpus(size: Any) -> int | None:
    return VCPUS.get(size) if isinstance(size, str) else None


def quota_vcpus(deployment: Deployment, values: dict[str, Any]) -> tuple[int | None, str]:
    """vCPUs a parameter set needs at peak: the cluster at its maximum plus ROLLOUT_DEPLOYMENTS online deployments,
    each reserving ceil(1.2 x instances) instances; and the arithmetic as text."""
    scope = deployment.with_values(**values).scope
    cluster_size, nodes = scope.lookup("computeClusterVmSize"), scope.lookup("computeClusterMaxNodes")
    online_size, instances = scope.lookup("onlineInstanceType"), scope.lookup("onlineInstanceCount")
    cluster_cpu, online_cpu = vcpus(cluster_size), vcpus(online_size)
    if cluster_cpu is None or online_cpu is None or not isinstance(nodes, int) or not isinstance(instances, int):
        return None, f"unknown size or count: {cluster_size!r} x {nodes!r}, {online_size!r} x {instances!r}"
    from mlops.targets.azure.quota import charged_instances  # Azure's 20% upgrade reserve, written once

    reserved = charged_instances(instances, online_size)
    total = nodes * cluster_cpu + ROLLOUT_DEPLOYMENTS * reserved * online_cpu
    text = (
        f"cluster {nodes} x {cluster_size} ({cluster_cpu}) + {ROLLOUT_DEPLOYMENTS} deployments x "
        f"ceil(1.2 x {instances}) = {reserved} x {online_size} ({online_cpu}) = {total} vCPUs"
    )
    return total, text


def query_problems(path: Path) -> list[str]:
    """A saved query is not empty and reads only the documented tables (QUERY_TABLES)."""
    lines = [line.split("//", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
    code = "\n".join(lines).strip()
    if not code:
        return [f"{path.name}: empty"]
    # A table starts a statement: an identifier alone on its line or followed by a pipe.
    tables = set(re.findall(r"^\s*([A-Za-z_]\w*)\s*(?:\||$)", code, re.MULTILINE))
    problems = [f"{path.name}: reads {table}, not a documented table" for table in sorted(tables - QUERY_TABLES)]
    if not tables:
        problems.append(f"{path.name}: names no table")
    return problems
