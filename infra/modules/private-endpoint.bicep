// Private endpoint of the Azure ML workspace in the client virtual network, registered in the private DNS zones.

@description('Name of the private endpoint.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('Resource ID of the Azure ML workspace.')
param workspaceId string

@description('Resource ID of the subnet that hosts the private endpoint.')
param subnetId string

@description('Resource IDs of privatelink.api.azureml.ms and privatelink.notebooks.azure.net.')
param privateDnsZoneIds array

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: workspaceId
          groupIds: [
            'amlworkspace'
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
    privateDnsZoneConfigs: [for (zoneId, i) in privateDnsZoneIds: {
      name: 'zone-${i}'
      properties: {
        privateDnsZoneId: zoneId
      }
    }]
  }
}

output id string = privateEndpoint.id
