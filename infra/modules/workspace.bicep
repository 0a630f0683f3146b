// The Azure ML workspace, linked to its storage account, key vault, container registry and Application Insights.

@description('Workspace name: 3-33 letters, digits, hyphens and underscores.')
@minLength(3)
@maxLength(33)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('Display name in Azure ML studio.')
param friendlyName string

@description('Resource ID of the default storage account.')
param storageAccountId string

@description('Resource ID of the key vault.')
param keyVaultId string

@description('Resource ID of the container registry.')
param containerRegistryId string

@description('Resource ID of the Application Insights component.')
param applicationInsightsId string

@description('true: no public endpoint (private endpoint only) and a managed virtual network that allows only approved outbound traffic.')
param enableNetworkIsolation bool

@description('true: Azure ML reaches its system datastores with Microsoft Entra ID (needed when shared keys are disabled on the storage account).')
param identityBasedStorageAccess bool

@description('Compute cluster that builds environment images when the registry is private (Azure ML cannot build on a private registry).')
param imageBuildComputeName string

@description('Resource ID of the Log Analytics workspace for diagnostics.')
param logAnalyticsWorkspaceId string

resource workspace 'Microsoft.MachineLearningServices/workspaces@2025-12-01' = {
  // checkov:skip=CKV_AZURE_243: this check looks for a user-defined PrivateEndpoint outbound rule; Azure ML creates the managed network's private endpoints to its own storage, key vault and registry itself. The workspace's inbound private endpoint is modules/private-endpoint.bicep (with enableNetworkIsolation).
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Basic'
    tier: 'Basic'
  }
  kind: 'Default'
  // System-assigned identity: Azure ML grants it the roles it needs on the linked resources when it creates the workspace.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    friendlyName: friendlyName
    storageAccount: storageAccountId
    keyVault: keyVaultId
    containerRegistry: containerRegistryId
    applicationInsights: applicationInsightsId
    hbiWorkspace: false
    v1LegacyMode: false
    systemDatastoresAuthMode: identityBasedStorageAccess ? 'Identity' : 'AccessKey'
    publicNetworkAccess: enableNetworkIsolation ? 'Disabled' : 'Enabled'
    allowPublicAccessWhenBehindVnet: false
    managedNetwork: {
      isolationMode: enableNetworkIsolation ? 'AllowOnlyApprovedOutbound' : 'Disabled'
    }
    // Build the managed virtual network during the deployment, not on the first job (errors surface here).
    provisionNetworkNow: enableNetworkIsolation
    imageBuildCompute: enableNetworkIsolation ? imageBuildComputeName : null
  }
}

resource workspaceDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workspace
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

output id string = workspace.id
output name string = workspace.name
output principalId string = workspace.identity.principalId
output mlflowTrackingUri string = workspace.properties.mlFlowTrackingUri
