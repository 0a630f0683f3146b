// Azure ML workspace and everything it links to, secure by default, for one environment (dev or prod).
//   az deployment group create -g <resource-group> -f infra/main.bicep -p infra/dev.bicepparam
// See infra/README.md for the walkthrough, OIDC set-up and what is (and is not) checked offline.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------------
// Naming
// ---------------------------------------------------------------------------------------------------------------

@description('Short prefix for every resource name: 2-8 lowercase letters or digits.')
@minLength(2)
@maxLength(8)
param prefix string = 'mlops'

@description('Environment name, part of every resource name.')
@allowed([
  'dev'
  'prod'
])
param environment string = 'dev'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Suffix for names that must be globally unique (storage, key vault, registry). Change it to start over when a soft-deleted key vault still holds the old name.')
@minLength(4)
@maxLength(13)
param nameSuffix string = uniqueString(resourceGroup().id)

@description('Extra tags for every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------------------------
// Security switches
// ---------------------------------------------------------------------------------------------------------------

// Each switch defaults to the dev value (reachable from laptops and GitHub-hosted runners); prod.bicepparam sets the
// secure value of every one, and tests/contract/test_infra.py checks what prod resolves to. infra/README.md has the
// dev/prod table and what each secure value costs.

@description('true (prod): no public endpoints on the workspace, storage, key vault and registry; managed virtual network with approved outbound only; a virtual network created here with private endpoints for the workspace and for an Azure Monitor Private Link Scope.')
param enableNetworkIsolation bool = false

@description('false (prod): the storage account refuses shared keys and SAS; Azure ML reaches its system datastores with Microsoft Entra ID (systemDatastoresAuthMode Identity) and the compute cluster runs as a user-assigned identity. Azure ML documents this as preview (see infra/README.md).')
param allowStorageSharedKeyAccess bool = true

@description('false (prod): Application Insights accepts only Microsoft Entra ID authenticated telemetry, not an instrumentation key (connection string) alone.')
param allowAppInsightsLocalAuth bool = true

@description('Disabled (prod): Application Insights and Log Analytics accept telemetry only through the Azure Monitor Private Link Scope, so it needs enableNetworkIsolation. Diagnostic settings are not affected.')
@allowed([
  'Enabled'
  'Disabled'
])
param monitorPublicNetworkAccessForIngestion string = 'Enabled'

@description('Disabled (prod): Application Insights and Log Analytics answer queries (portal, workbooks, APIs) only through the Azure Monitor Private Link Scope, i.e. from inside the virtual network; needs enableNetworkIsolation.')
@allowed([
  'Enabled'
  'Disabled'
])
param monitorPublicNetworkAccessForQuery string = 'Enabled'

@description('Object ID of the CI service principal that has the GitHub OIDC federated credential; empty: no CI role assignments.')
param ciPrincipalId string = ''

@description('true: the compute cluster identity may read key vault secrets (only if your job code reads secrets directly).')
param clusterReadsKeyVaultSecrets bool = false

// ---------------------------------------------------------------------------------------------------------------
// Compute (keep infra/azureml/compute-cluster.yml in step; tests/contract/test_infra.py checks it)
// ---------------------------------------------------------------------------------------------------------------

@description('Compute cluster name; pipelines/train.yml uses azureml:cpu-cluster.')
param computeClusterName string = 'cpu-cluster'

@description('VM size of the compute cluster nodes.')
param computeClusterVmSize string = 'Standard_DS3_v2'

@description('Dedicated or LowPriority nodes.')
@allowed([
  'Dedicated'
  'LowPriority'
])
param computeClusterVmPriority string = 'Dedicated'

@description('Most nodes the compute cluster scales out to (it always scales in to zero).')
@minValue(1)
@maxValue(100)
param computeClusterMaxNodes int = 2

@description('Seconds an idle node waits before it is released.')
@minValue(60)
@maxValue(86400)
param computeClusterIdleSecondsBeforeScaleDown int = 120

@description('Create a compute instance (a personal development VM). Off by default: it bills while it runs.')
param deployComputeInstance bool = false

@description('VM size of the compute instance.')
param computeInstanceVmSize string = 'Standard_DS11_v2'

@description('Minutes of inactivity before the compute instance shuts down.')
@minValue(15)
@maxValue(4320)
param computeInstanceIdleMinutesBeforeShutdown int = 60

@description('Object ID of the person the compute instance is for; empty: whoever runs the deployment.')
param computeInstanceUserObjectId string = ''

// ---------------------------------------------------------------------------------------------------------------
// Storage, monitoring and network
// ---------------------------------------------------------------------------------------------------------------

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Days a deleted key vault stays recoverable (its name stays taken as long).')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logAnalyticsRetentionInDays int = 30

@description('Daily Log Analytics ingestion cap in GB (-1: no cap).')
param logAnalyticsDailyQuotaGb int = 1

@description('Address space of the virtual network (only with enableNetworkIsolation).')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Private endpoint subnet (only with enableNetworkIsolation).')
param privateEndpointSubnetPrefix string = '10.40.1.0/24'

// ---------------------------------------------------------------------------------------------------------------
// Alerts, budget and the online serving profile (infra/README.md, "Alerts", "Budget and the dev quota profile")
// ---------------------------------------------------------------------------------------------------------------

@description('E-mail addresses the action group notifies (failed jobs, model-monitor breaches, endpoint alerts, budget); may be empty.')
param alertEmails array = []

@description('Failed Azure ML jobs in 15 minutes above which the failed-jobs alert fires (0: any failure).')
@minValue(0)
param failedJobsThreshold int = 0

@description('Substring of the run status message of a model-monitor run failed by a signal breach (Azure ML tags such runs "has failed due to one or more features violating metric thresholds").')
param monitorBreachMessage string = 'violating metric thresholds'

@description('Create the monthly cost budget on the resource group (needs a subscription type that supports Cost Management budgets).')
param deployBudget bool = true

@description('Monthly budget of the resource group, in the billing currency.')
@minValue(1)
param budgetAmount int = 100

@description('First day of the first budgeted month (yyyy-MM-01); the default is the current month.')
param budgetStartDate string = '${utcNow('yyyy-MM')}-01'

@description('E-mail addresses the budget notifies besides the action group; may be empty.')
param budgetContactEmails array = []

@description('Percentages of the budget actually spent that notify (three, lowest first).')
param budgetActualThresholdsPercent array = [
  50
  80
  100
]

@description('Percentage of the budget the month-end forecast must reach to notify.')
param budgetForecastThresholdPercent int = 100

@description('Instance type of the managed online deployments (output for `mlops deploy online --instance-type`; each deployment reserves ceil(1.2 x instances) x its vCPUs of quota).')
param onlineInstanceType string = 'Standard_DS3_v2'

@description('Instances per online deployment (production: 3 or more).')
@minValue(1)
param onlineInstanceCount int = 1

// ---------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------

var baseName = '${prefix}-${environment}'
var compactName = toLower(replace('${prefix}${environment}', '-', ''))
var allTags = union(tags, {
  project: prefix
  environment: environment
  'managed-by': 'bicep'
})

// One switch for every public endpoint of the linked resources.
var publicNetworkAccess = enableNetworkIsolation ? 'Disabled' : 'Enabled'
// Basic is enough for dev; only Premium can turn its public endpoint off.
var containerRegistrySku = enableNetworkIsolation ? 'Premium' : 'Basic'

var names = {
  logAnalytics: 'log-${baseName}'
  appInsights: 'appi-${baseName}'
  storage: take(toLower('st${compactName}${nameSuffix}'), 24)
  keyVault: take('kv-${baseName}-${nameSuffix}', 24)
  containerRegistry: take('cr${compactName}${nameSuffix}', 50)
  workspace: 'mlw-${baseName}'
  computeInstance: take('ci-${baseName}-${nameSuffix}', 24)
  vnet: 'vnet-${baseName}'
  workspacePrivateEndpoint: 'pe-mlw-${baseName}'
  clusterIdentity: 'id-${baseName}-cluster'
  monitorPrivateLinkScope: 'ampls-${baseName}'
  monitorPrivateEndpoint: 'pe-ampls-${baseName}'
  actionGroup: 'ag-${baseName}'
  budget: 'budget-${baseName}'
}

// ---------------------------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------------------------

module logAnalytics 'modules/log-analytics.bicep' = {
  name: 'log-analytics'
  params: {
    name: names.logAnalytics
    location: location
    tags: allTags
    retentionInDays: logAnalyticsRetentionInDays
    dailyQuotaGb: logAnalyticsDailyQuotaGb
    publicNetworkAccessForIngestion: monitorPublicNetworkAccessForIngestion
    publicNetworkAccessForQuery: monitorPublicNetworkAccessForQuery
  }
}

module appInsights 'modules/app-insights.bicep' = {
  name: 'app-insights'
  params: {
    name: names.appInsights
    location: location
    tags: allTags
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
    disableLocalAuth: !allowAppInsightsLocalAuth
    publicNetworkAccessForIngestion: monitorPublicNetworkAccessForIngestion
    publicNetworkAccessForQuery: monitorPublicNetworkAccessForQuery
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
    skuName: storageSkuName
    publicNetworkAccess: publicNetworkAccess
    allowSharedKeyAccess: allowStorageSharedKeyAccess
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    publicNetworkAccess: publicNetworkAccess
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
  }
}

module containerRegistry 'modules/container-registry.bicep' = {
  name: 'container-registry'
  params: {
    name: names.containerRegistry
    location: location
    tags: allTags
    skuName: containerRegistrySku
    publicNetworkAccess: publicNetworkAccess
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
  }
}

module workspace 'modules/workspace.bicep' = {
  name: 'workspace'
  params: {
    name: names.workspace
    location: location
    tags: allTags
    friendlyName: 'MLOps template (${environment})'
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
    containerRegistryId: containerRegistry.outputs.id
    applicationInsightsId: appInsights.outputs.id
    enableNetworkIsolation: enableNetworkIsolation
    identityBasedStorageAccess: !allowStorageSharedKeyAccess
    imageBuildComputeName: computeClusterName
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
  }
}

module network 'modules/network.bicep' = if (enableNetworkIsolation) {
  name: 'network'
  params: {
    vnetName: names.vnet
    location: location
    tags: allTags
    addressPrefix: vnetAddressPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
  }
}

module workspacePrivateEndpoint 'modules/private-endpoint.bicep' = if (enableNetworkIsolation) {
  name: 'workspace-private-endpoint'
  params: {
    name: names.workspacePrivateEndpoint
    location: location
    tags: allTags
    workspaceId: workspace.outputs.id
    subnetId: network.outputs.privateEndpointSubnetId
    privateDnsZoneIds: network.outputs.privateDnsZoneIds
  }
}

module monitorPrivateLink 'modules/monitor-private-link.bicep' = if (enableNetworkIsolation) {
  name: 'monitor-private-link'
  params: {
    name: names.monitorPrivateLinkScope
    privateEndpointName: names.monitorPrivateEndpoint
    location: location
    tags: allTags
    logAnalyticsWorkspaceId: logAnalytics.outputs.id
    applicationInsightsId: appInsights.outputs.id
    vnetId: network.outputs.vnetId
    subnetId: network.outputs.privateEndpointSubnetId
  }
}

module computeCluster 'modules/compute-cluster.bicep' = {
  name: 'compute-cluster'
  params: {
    workspaceName: workspace.outputs.name
    name: computeClusterName
    location: location
    tags: allTags
    vmSize: computeClusterVmSize
    vmPriority: computeClusterVmPriority
    maxNodeCount: computeClusterMaxNodes
    idleSecondsBeforeScaleDown: computeClusterIdleSecondsBeforeScaleDown
    enableNetworkIsolation: enableNetworkIsolation
    useUserAssignedIdentity: !allowStorageSharedKeyAccess
    userAssignedIdentityName: names.clusterIdentity
  }
}

module computeInstance 'modules/compute-instance.bicep' = if (deployComputeInstance) {
  name: 'compute-instance'
  params: {
    workspaceName: workspace.outputs.name
    name: names.computeInstance
    location: location
    tags: allTags
    vmSize: computeInstanceVmSize
    idleMinutesBeforeShutdown: computeInstanceIdleMinutesBeforeShutdown
    assignedUserObjectId: computeInstanceUserObjectId
    enableNetworkIsolation: enableNetworkIsolation
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    workspaceName: workspace.outputs.name
    storageAccountName: storage.outputs.name
    containerRegistryName: containerRegistry.outputs.name
    keyVaultName: keyVault.outputs.name
    ciPrincipalId: ciPrincipalId
    clusterPrincipalId: computeCluster.outputs.principalId
    identityBasedStorageAccess: !allowStorageSharedKeyAccess
    clusterReadsKeyVaultSecrets: clusterReadsKeyVaultSecrets
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    actionGroupName: names.actionGroup
    alertNamePrefix: baseName
    tags: allTags
    emails: alertEmails
    workspaceName: workspace.outputs.name
    logAnalyticsWorkspaceName: logAnalytics.outputs.name
    location: location
    failedJobsThreshold: failedJobsThreshold
    monitorBreachMessage: monitorBreachMessage
  }
}

module budget 'modules/budget.bicep' = if (deployBudget) {
  name: 'budget'
  params: {
    name: names.budget
    amount: budgetAmount
    startDate: budgetStartDate
    contactEmails: budgetContactEmails
    actionGroupId: alerts.outputs.actionGroupId
    actualThresholdsPercent: budgetActualThresholdsPercent
    forecastThresholdPercent: budgetForecastThresholdPercent
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs (what CI and `az ml` need: -g <resourceGroupName> -w <workspaceName>)
// ---------------------------------------------------------------------------------------------------------------

output resourceGroupName string = resourceGroup().name
output workspaceName string = workspace.outputs.name
output computeClusterName string = computeCluster.outputs.name
output computeInstanceName string = deployComputeInstance ? names.computeInstance : ''
output storageAccountName string = storage.outputs.name
output keyVaultName string = keyVault.outputs.name
output containerRegistryName string = containerRegistry.outputs.name
output applicationInsightsName string = appInsights.outputs.name
output logAnalyticsWorkspaceName string = logAnalytics.outputs.name
output mlflowTrackingUri string = workspace.outputs.mlflowTrackingUri
output actionGroupName string = alerts.outputs.actionGroupName
output onlineInstanceType string = onlineInstanceType
output onlineInstanceCount int = onlineInstanceCount
