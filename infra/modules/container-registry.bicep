// Container Registry of the Azure ML workspace: the images Azure ML builds from environments/*.

@description('Registry name: 5-50 letters and digits, globally unique.')
@minLength(5)
@maxLength(50)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('Basic for dev; Premium is needed to disable the public endpoint.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string

@description('Disabled (network isolation): no public endpoint; Azure ML reaches it through its managed virtual network.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Resource ID of the Log Analytics workspace for diagnostics.')
param logAnalyticsWorkspaceId string

// Premium-only policies, applied only when the registry is Premium.
var premiumPolicies = {
  retentionPolicy: {
    // Untagged manifests (superseded environment builds) are deleted after a week.
    days: 7
    status: 'enabled'
  }
  exportPolicy: {
    // No `az acr import` out of a private registry.
    status: 'disabled'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  // checkov:skip=CKV_AZURE_139: publicNetworkAccess is Disabled (with Premium) whenever enableNetworkIsolation is on (prod); checkov cannot evaluate the parameter. Checked by tests/contract/test_infra.py.
  // checkov:skip=CKV_AZURE_163: image scanning is Microsoft Defender for Containers, enabled per subscription, not a registry property; checkov uses the SKU as a proxy. Prod is Premium; dev stays Basic for cost.
  // checkov:skip=CKV_AZURE_166: quarantine holds every pushed image until a scanner releases it, so Azure ML could not pull the environments it just built.
  // checkov:skip=CKV_AZURE_233: zone redundancy needs Premium and a region with availability zones (deployment fails elsewhere); the images are rebuilt from environments/ if lost.
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    // No shared admin password: Azure ML and the compute cluster pull with their managed identities (AcrPull).
    adminUserEnabled: false
    dataEndpointEnabled: false
    publicNetworkAccess: publicNetworkAccess
    networkRuleBypassOptions: 'AzureServices'
    zoneRedundancy: 'Disabled'
    policies: (skuName == 'Premium') ? premiumPolicies : {}
  }
}

resource registryDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: registry
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output id string = registry.id
output name string = registry.name
