// Azure Monitor autoscale for one managed online deployment. Deploy it after `mlops deploy online` has created the
// deployment (Bicep does not create endpoints):
//   az deployment group create -g <resource-group> -f infra/ops/autoscale.bicep \
//     -p workspaceName=<workspace> endpointName=<endpoint> deploymentName=<deployment>
// Scales out on CPU or on requests per minute, in when both are low. infra/README.md, "Autoscale".

targetScope = 'resourceGroup'

@description('Azure ML workspace holding the endpoint.')
param workspaceName string

@description('Online endpoint name.')
param endpointName string

@description('Online deployment to scale (e.g. blue).')
param deploymentName string

@description('Azure region of the autoscale setting (the region of the workspace).')
param location string = resourceGroup().location

@description('Fewest instances (prod: 3 or more, as Azure ML recommends for production).')
@minValue(1)
param minInstances int = 1

@description('Instances when no metric is available.')
@minValue(1)
param defaultInstances int = 1

@description('Most instances. Quota: each deployment reserves ceil(1.2 x instances) x vCPUs of its instance type.')
@minValue(1)
param maxInstances int = 3

@description('Average CPU percentage over 5 minutes above which one instance is added.')
param cpuScaleOutPercent int = 70

@description('Average CPU percentage over 10 minutes below which one instance is removed (with low traffic).')
param cpuScaleInPercent int = 25

@description('Requests per minute per instance (averaged over 5 minutes) above which one instance is added.')
param requestsPerMinuteScaleOut int = 600

@description('Requests per minute per instance (averaged over 10 minutes) below which one instance is removed.')
param requestsPerMinuteScaleIn int = 100

@description('Wait after a scale action before the next one (ISO 8601).')
param cooldown string = 'PT5M'

resource workspace 'Microsoft.MachineLearningServices/workspaces@2025-12-01' existing = {
  name: workspaceName
}

resource endpoint 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2025-12-01' existing = {
  parent: workspace
  name: endpointName
}

resource deployment 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments@2025-12-01' existing = {
  parent: endpoint
  name: deploymentName
}

// RequestsPerMinute is an endpoint metric; its `deployment` dimension narrows it to this deployment.
var thisDeployment = [
  {
    DimensionName: 'deployment'
    Operator: 'Equals'
    Values: [
      deploymentName
    ]
  }
]

resource autoscale 'Microsoft.Insights/autoscalesettings@2022-10-01' = {
  name: 'autoscale-${endpointName}-${deploymentName}'
  location: location
  properties: {
    enabled: true
    targetResourceUri: deployment.id
    profiles: [
      {
        name: 'cpu-and-requests'
        capacity: {
          minimum: string(minInstances)
          default: string(defaultInstances)
          maximum: string(maxInstances)
        }
        rules: [
          {
            metricTrigger: {
              metricName: 'CpuUtilizationPercentage'
              metricNamespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments'
              metricResourceUri: deployment.id
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT5M'
              timeAggregation: 'Average'
              operator: 'GreaterThan'
              threshold: cpuScaleOutPercent
            }
            scaleAction: {
              direction: 'Increase'
              type: 'ChangeCount'
              value: '1'
              cooldown: cooldown
            }
          }
          {
            metricTrigger: {
              metricName: 'RequestsPerMinute'
              metricNamespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints'
              metricResourceUri: endpoint.id
              dimensions: thisDeployment
              dividePerInstance: true
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT5M'
              timeAggregation: 'Average'
              operator: 'GreaterThan'
              threshold: requestsPerMinuteScaleOut
            }
            scaleAction: {
              direction: 'Increase'
              type: 'ChangeCount'
              value: '1'
              cooldown: cooldown
            }
          }
          {
            metricTrigger: {
              metricName: 'CpuUtilizationPercentage'
              metricNamespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments'
              metricResourceUri: deployment.id
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT10M'
              timeAggregation: 'Average'
              operator: 'LessThan'
              threshold: cpuScaleInPercent
            }
            scaleAction: {
              direction: 'Decrease'
              type: 'ChangeCount'
              value: '1'
              cooldown: cooldown
            }
          }
          {
            metricTrigger: {
              metricName: 'RequestsPerMinute'
              metricNamespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints'
              metricResourceUri: endpoint.id
              dimensions: thisDeployment
              dividePerInstance: true
              timeGrain: 'PT1M'
              statistic: 'Average'
              timeWindow: 'PT10M'
              timeAggregation: 'Average'
              operator: 'LessThan'
              threshold: requestsPerMinuteScaleIn
            }
            scaleAction: {
              direction: 'Decrease'
              type: 'ChangeCount'
              value: '1'
              cooldown: cooldown
            }
          }
        ]
      }
    ]
  }
}

output autoscaleSettingName string = autoscale.name
