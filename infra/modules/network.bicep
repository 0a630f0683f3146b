// Client-side private networking for an isolated workspace: a virtual network with one subnet for private
// endpoints, its network security group, and the private DNS zones Azure ML's private endpoint registers in.
// (Compute does not live here: it runs in the workspace's managed virtual network.)

@description('Name of the virtual network.')
param vnetName string

@description('Azure region.')
param location string

@description('Tags applied to the resources.')
param tags object

@description('Address space of the virtual network.')
param addressPrefix string

@description('Address range of the private endpoint subnet (inside addressPrefix).')
param privateEndpointSubnetPrefix string

var privateEndpointSubnetName = 'snet-private-endpoints'

// The two zones an Azure ML workspace private endpoint (group 'amlworkspace') needs: the workspace API and the
// notebooks service.
var privateDnsZoneNames = [
  'privatelink.api.azureml.ms'
  'privatelink.notebooks.azure.net'
]

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${vnetName}-pe'
  location: location
  tags: tags
  properties: {
    // The default rules only: traffic from inside the virtual network, nothing inbound from the internet.
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          // Network security group rules apply to the private endpoints in this subnet too.
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource dnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for zoneName in privateDnsZoneNames: {
  name: zoneName
  location: 'global'
  tags: tags
}]

resource dnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (zoneName, i) in privateDnsZoneNames: {
  parent: dnsZones[i]
  name: 'link-${vnetName}'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

output vnetId string = vnet.id
output privateEndpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, privateEndpointSubnetName)
output privateDnsZoneIds array = [for (zoneName, i) in privateDnsZoneNames: dnsZones[i].id]
