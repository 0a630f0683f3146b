// Alerts on one managed online endpoint and its deployment, plus the endpoint's diagnostic setting that feeds the
// saved queries (infra/queries/*.kql). Deploy after `mlops deploy online` has created them (Bicep does not create
// endpoints), with the action group main.bicep created (output actionGroupName):
//   az deployment group create -g <resource-group> -f infra/ops/endpoint-alerts.bicep \
//     -p workspaceName=<workspace> endpointName=<endpoint> deploymentName=<deployment> \
//        actionGroupName=<actionGroupName output> logAnalyticsWorkspaceName=<logAnalyticsWorkspaceName output>
// Metric names: "Supported metrics for Microsoft.MachineLearningServices/workspaces/onlineEndpoints" and
// ".../onlineEndpoints/deployments" (Azure Monitor reference). infra/README.md, "Alerts".

targetScope = 'resourceGroup'

@description('Azure ML workspace holding the endpoint.')
param workspaceName string

@description('Online endpoint name.')
param endpointName string

@description('Online deployment whose CPU and memory are watched (e.g. blue).')
param deploymentName string

@description('Action group created by main.bicep (its output actionGroupName).')
param actionGroupName string

@description('Log Analytics workspace created by main.bicep (its output logAnalyticsWorkspaceName); empty: no diagnostic setting.')
param logAnalyticsWorkspaceName string = ''

@description('Endpoint p95 request latency in milliseconds (RequestLatency_P95, average over 5 minutes) above which the alert fires.')
param latencyP95Milliseconds int = 1000

@description('5xx responses per minute (RequestsPerMinute with statusCodeClass 5xx, average over 5 minutes) above which the alert fires.')
param serverErrorsPerMinute int = 1

@description('4xx responses per minute (RequestsPerMinute with statusCodeClass 4xx, average over 5 minutes) above which the alert fires.')
param clientErrorsPerMinute int = 10

@description('Deployment CPU percentage (CpuUtilizationPercentage, average over 15 minutes) above which the alert fires.')
param cpuPercent int = 85

@description('Deployment memory percentage (CpuMemoryUtilizationPercentage, average over 15 minutes) above which the alert fires.')
param memoryPercent int = 85

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

resource actionGroup 'Microsoft.Insights/actionGroups@2022-04-01' existing = {
  name: actionGroupName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = if (!empty(logAnalyticsWorkspaceName)) {
  name: logAnalyticsWorkspaceName
}

var endpointNamespace = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints'
var deploymentNamespace = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments'

resource latencyAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${endpointName}-latency-p95'
  location: 'global'
  properties: {
    description: 'p95 request latency of online endpoint ${endpointName} above ${latencyP95Milliseconds} ms.'
    severity: 2
    enabled: true
    scopes: [
      endpoint.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'latency-p95'
          metricNamespace: endpointNamespace
          metricName: 'RequestLatency_P95'
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: latencyP95Milliseconds
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource serverErrorsAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${endpointName}-5xx'
  location: 'global'
  properties: {
    description: 'Online endpoint ${endpointName} answers 5xx (server errors: scoring script, timeouts, overload).'
    severity: 1
    enabled: true
    scopes: [
      endpoint.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'requests-5xx'
          metricNamespace: endpointNamespace
          metricName: 'RequestsPerMinute'
          dimensions: [
            {
              name: 'statusCodeClass'
              operator: 'Include'
              values: [
                '5xx'
              ]
            }
          ]
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: serverErrorsPerMinute
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource clientErrorsAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${endpointName}-4xx'
  location: 'global'
  properties: {
    description: 'Online endpoint ${endpointName} answers 4xx (bad payloads, auth failures, 429 throttling).'
    severity: 3
    enabled: true
    scopes: [
      endpoint.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'requests-4xx'
          metricNamespace: endpointNamespace
          metricName: 'RequestsPerMinute'
          dimensions: [
            {
              name: 'statusCodeClass'
              operator: 'Include'
              values: [
                '4xx'
              ]
            }
          ]
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: clientErrorsPerMinute
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource cpuAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${endpointName}-${deploymentName}-cpu'
  location: 'global'
  properties: {
    description: 'CPU of deployment ${deploymentName} above ${cpuPercent}% (scale out: infra/ops/autoscale.bicep).'
    severity: 2
    enabled: true
    scopes: [
      deployment.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'cpu'
          metricNamespace: deploymentNamespace
          metricName: 'CpuUtilizationPercentage'
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: cpuPercent
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource memoryAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${endpointName}-${deploymentName}-memory'
  location: 'global'
  properties: {
    description: 'Memory of deployment ${deploymentName} above ${memoryPercent}% (a larger instance type, not more instances).'
    severity: 2
    enabled: true
    scopes: [
      deployment.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'memory'
          metricNamespace: deploymentNamespace
          metricName: 'CpuMemoryUtilizationPercentage'
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: memoryPercent
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// Traffic, console and event logs of the endpoint (AmlOnlineEndpointTrafficLog, ...ConsoleLog, ...EventLog) for the
// saved queries. Diagnostic settings reach Log Analytics over a trusted channel, so prod's private monitoring keeps them.
resource endpointDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceName)) {
  name: 'to-log-analytics'
  scope: endpoint
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}
