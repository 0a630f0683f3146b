// Optional compute instance (a personal development VM), stopped automatically when idle.
// Twin: infra/azureml/compute-instance.yml.

@description('Name of the Azure ML workspace.')
param workspaceName string

@description('Instance name: 3-24 characters, unique within the Azure region.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('VM size.')
param vmSize string

@description('Minutes without activity before the instance shuts itself down (15 minutes to 3 days).')
@minValue(15)
@maxValue(4320)
param idleMinutesBeforeShutdown int

@description('Object ID of the person the instance belongs to; empty: whoever deploys the template.')
param assignedUserObjectId string

@description('true: the workspace has a managed virtual network, so the instance gets no public IP address.')
param enableNetworkIsolation bool

var personalSettings = {
  assignedUser: {
    objectId: assignedUserObjectId
    tenantId: subscription().tenantId
  }
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2025-12-01' existing = {
  name: workspaceName
}

resource instance 'Microsoft.MachineLearningServices/workspaces/computes@2025-12-01' = {
  parent: workspace
  name: name
  location: location
  tags: tags
  properties: {
    computeType: 'ComputeInstance'
    description: 'Personal development instance; shuts down when idle.'
    disableLocalAuth: true
    properties: {
      vmSize: vmSize
      // ISO 8601 duration, e.g. PT60M.
      idleTimeBeforeShutdown: 'PT${idleMinutesBeforeShutdown}M'
      applicationSharingPolicy: 'Personal'
      computeInstanceAuthorizationType: 'personal'
      personalComputeInstanceSettings: empty(assignedUserObjectId) ? null : personalSettings
      sshSettings: {
        sshPublicAccess: 'Disabled'
      }
      enableNodePublicIp: !enableNetworkIsolation
    }
  }
}

output name string = instance.name
