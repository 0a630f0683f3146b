// Log Analytics workspace: the one sink for Application Insights and every diagnostic setting in this template.

@description('Name of the Log Analytics workspace.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('Days to keep data (30 is the free-retention tier of PerGB2018).')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Daily ingestion cap in GB, so a chatty job cannot run up the bill (-1 = no cap).')
param dailyQuotaGb int

@description('Disabled: only networks connected through the Azure Monitor Private Link Scope can send data (diagnostic settings are not affected: they use a trusted Microsoft channel).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccessForIngestion string

@description('Disabled: only networks connected through the Azure Monitor Private Link Scope can query (the portal too, so query from inside the virtual network).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccessForQuery string

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      // Readers of a resource see its logs; nobody gets the whole workspace just by reading one resource.
      enableLogAccessUsingOnlyResourcePermissions: true
    }
    publicNetworkAccessForIngestion: publicNetworkAccessForIngestion
    publicNetworkAccessForQuery: publicNetworkAccessForQuery
  }
}

output id string = logAnalytics.id
output name string = logAnalytics.name
