// Workspace-based Application Insights: the workspace's run and endpoint telemetry lands in Log Analytics.

@description('Name of the Application Insights component.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('Resource ID of the Log Analytics workspace that stores the telemetry.')
param logAnalyticsWorkspaceId string

@description('true: only Microsoft Entra ID authenticated telemetry is accepted; an instrumentation key (connection string) alone is refused.')
param disableLocalAuth bool

@description('Disabled: only networks connected through the Azure Monitor Private Link Scope can send telemetry.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccessForIngestion string

@description('Disabled: only networks connected through the Azure Monitor Private Link Scope can query (the portal too).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccessForQuery string

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: name
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalyticsWorkspaceId
    IngestionMode: 'LogAnalytics'
    // With local auth on, anyone holding the connection string can write telemetry; Azure ML online endpoints
    // (app_insights_enabled) send with it, so turning it off silences them (see infra/README.md).
    DisableLocalAuth: disableLocalAuth
    publicNetworkAccessForIngestion: publicNetworkAccessForIngestion
    publicNetworkAccessForQuery: publicNetworkAccessForQuery
  }
}

output id string = appInsights.id
output name string = appInsights.name
