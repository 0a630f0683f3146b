// CPU compute cluster for pipeline jobs (pipelines/train.yml: settings.default_compute azureml:cpu-cluster).
// Cost-safe: it scales to zero nodes when idle. Twin: infra/azureml/compute-cluster.yml.

@description('Name of the Azure ML workspace.')
param workspaceName string

@description('Cluster name, as jobs reference it (azureml:<name>).')
@minLength(2)
@maxLength(16)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('VM size of each node.')
param vmSize string

@description('Dedicated, or LowPriority (much cheaper, nodes can be preempted).')
@allowed([
  'Dedicated'
  'LowPriority'
])
param vmPriority string

@description('Most nodes the cluster scales out to.')
@minValue(1)
@maxValue(100)
param maxNodeCount int

@description('Seconds an idle node waits before the cluster releases it.')
@minValue(60)
@maxValue(86400)
param idleSecondsBeforeScaleDown int

@description('true: the workspace has a managed virtual network, so nodes get no public IP address.')
param enableNetworkIsolation bool

@description('true (the storage account refuses shared keys): the cluster runs as a user-assigned identity created here. Azure ML needs one for jobs with a model as input or output on such an account; otherwise the cluster has a system-assigned identity (a cluster cannot have both).')
param useUserAssignedIdentity bool

@description('Name of the user-assigned identity (only with useUserAssignedIdentity).')
param userAssignedIdentityName string

resource workspace 'Microsoft.MachineLearningServices/workspaces@2025-12-01' existing = {
  name: workspaceName
}

resource clusterIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (useUserAssignedIdentity) {
  name: userAssignedIdentityName
  location: location
  tags: tags
}

resource cluster 'Microsoft.MachineLearningServices/workspaces/computes@2025-12-01' = {
  parent: workspace
  name: name
  location: location
  tags: tags
  // The cluster's own identity reads inputs, writes outputs and pulls images (see role-assignments.bicep).
  identity: useUserAssignedIdentity ? {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${clusterIdentity.id}': {}
    }
  } : {
    type: 'SystemAssigned'
  }
  properties: {
    computeType: 'AmlCompute'
    description: 'CPU cluster for pipeline jobs; scales to zero when idle.'
    // Microsoft Entra ID only: no keys for this compute.
    disableLocalAuth: true
    properties: {
      vmSize: vmSize
      vmPriority: vmPriority
      osType: 'Linux'
      scaleSettings: {
        // Zero nodes when no job runs: an idle cluster costs nothing.
        minNodeCount: 0
        maxNodeCount: maxNodeCount
        nodeIdleTimeBeforeScaleDown: 'PT${idleSecondsBeforeScaleDown}S'
      }
      // No SSH into nodes.
      remoteLoginPortPublicAccess: 'Disabled'
      enableNodePublicIp: !enableNetworkIsolation
    }
  }
}

output name string = cluster.name
output principalId string = useUserAssignedIdentity ? clusterIdentity.properties.principalId : cluster.identity.principalId
