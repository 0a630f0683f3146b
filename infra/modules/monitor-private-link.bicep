// Isolation only: an Azure Monitor Private Link Scope (AMPLS) holding the Log Analytics workspace and Application
// Insights, its private endpoint in the client virtual network, and the private DNS zones that endpoint registers
// in. With the monitoring resources' public ingestion and query Disabled, this is the only way to query them (the
// portal too) or send them telemetry: from inside the virtual network (or a network peered with it that uses
// these zones). The workspace's managed virtual network cannot reach it: Azure Monitor is not among the private
// endpoint targets of an Azure ML managed network (infra/README.md says what that costs).

@description('Name of the private link scope.')
param name string

@description('Name of the private endpoint.')
param privateEndpointName string

@description('Azure region of the private endpoint.')
param location string

@description('Tags applied to the resources.')
param tags object

@description('Resource ID of the Log Analytics workspace.')
param logAnalyticsWorkspaceId string

@description('Resource ID of the Application Insights component.')
param applicationInsightsId string

@description('Resource ID of the virtual network the DNS zones are linked to.')
param vnetId string

@description('Resource ID of the subnet that hosts the private endpoint.')
param subnetId string

// The zones an 'azuremonitor' private endpoint registers in. The blob zone serves the agents' solution packs; it is
// the same zone a client-side storage private endpoint would use, so add such endpoints to it rather than a second
// one (two zones for one name in one network do not work).
var privateDnsZoneNames = [
  'privatelink.monitor.azure.com'
  'privatelink.oms.opinsights.azure.com'
  'privatelink.ods.opinsights.azure.com'
  'privatelink.agentsvc.azure-automation.net'
  'privatelink.blob.${environment().suffixes.storage}'
]

var scopedResourceIds = [
  logAnalyticsWorkspaceId
  applicationInsightsId
]

resource scope 'Microsoft.Insights/privateLinkScopes@2021-09-01' = {
  name: name
  location: 'global'
  tags: tags
  properties: {
    // PrivateOnly: from this network only the resources in this scope are reachable, so no data leaves for another
    // tenant's Application Insights or workspace. Every Azure Monitor resource of the template is in the scope.
    accessModeSettings: {
      ingestionAccessMode: 'PrivateOnly'
      queryAccessMode: 'PrivateOnly'
    }
  }
}

resource scopedResources 'Microsoft.Insights/privateLinkScopes/scopedResources@2021-09-01' = [for (linkedId, i) in scopedResourceIds: {
  parent: scope
  name: 'scoped-${i}'
  properties: {
    linkedResourceId: linkedId
  }
}]

resource dnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zoneName in privateDnsZoneNames: {
  name: zoneName
  location: 'global'
  tags: tags
}]

resource dnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zoneName, i) in privateDnsZoneNames: {
  parent: dnsZones[i]
  name: 'link-${last(split(vnetId, '/'))}'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}]

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: privateEndpointName
  location: location
  tags: tags
  // The scope must hold its resources before the endpoint connects, or the first DNS records miss them.
  dependsOn: [
    scopedResources
  ]
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: privateEndpointName
        properties: {
          privateLinkServiceId: scope.id
          groupIds: [
            'azuremonitor'
          ]
        }
      }
    ]
  }
}

resource dnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: privateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [for (zoneName, i) in privateDnsZoneNames: {
      name: 'zone-${i}'
      properties: {
        privateDnsZoneId: dnsZones[i].id
      }
    }]
  }
}

output id string = scope.id
