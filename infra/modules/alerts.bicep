// Alerting that needs nothing but the workspace and Log Analytics: the action group every alert (and the budget)
// notifies, an alert on failed Azure ML jobs and one on model-monitor signal breaches. Endpoint and deployment alerts
// (latency, 4xx/5xx, CPU, memory) live in infra/ops/endpoint-alerts.bicep, deployed once the CLI has created the
// online deployment; they reuse this action group by name. infra/README.md, "Alerts", lists every rule.

@description('Action group name.')
param actionGroupName string

@description('Prefix of every alert rule name, e.g. mlops-dev.')
param alertNamePrefix string

@description('Tags applied to every resource.')
param tags object

@description('E-mail addresses the action group notifies; may be empty (the alerts still fire and show in the portal).')
param emails array

@description('Name of the Azure ML workspace whose jobs are watched.')
param workspaceName string

@description('Name of the Log Analytics workspace that receives the Azure ML workspace diagnostics (AmlRunStatusChangedEvent).')
param logAnalyticsWorkspaceName string

@description('Azure region of the log alert (the region of the Log Analytics workspace).')
param location string

@description('Failed Azure ML jobs (pipeline steps, sweeps, monitor runs) over 15 minutes above which the failed-jobs alert fires.')
@minValue(0)
param failedJobsThreshold int

@description('Substring of the run status message that marks a model-monitor run failed by a signal breach.')
param monitorBreachMessage string

// Short name shown in e-mails and SMS: at most 12 characters.
var actionGroupShortName = take(replace(alertNamePrefix, '-', ''), 12)

resource workspace 'Microsoft.MachineLearningServices/workspaces@2025-12-01' existing = {
  name: workspaceName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2022-04-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: actionGroupShortName
    enabled: true
    emailReceivers: [
      for (email, i) in emails: {
        name: 'email-${i}'
        emailAddress: email
        useCommonAlertSchema: true
      }
    ]
  }
}

// Workspace platform metric "Failed Runs" (counted when a run fails; every run type: pipeline steps, sweeps, the
// model monitor's scheduled runs). Total over 15 minutes, evaluated every 5.
resource failedJobsAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${alertNamePrefix}-failed-jobs'
  location: 'global'
  tags: tags
  properties: {
    description: 'Azure ML jobs failed in workspace ${workspaceName} (pipeline, sweep and model-monitor runs).'
    severity: 2
    enabled: true
    scopes: [
      workspace.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'failed-runs'
          metricNamespace: 'Microsoft.MachineLearningServices/workspaces'
          metricName: 'Failed Runs'
          timeAggregation: 'Total'
          operator: 'GreaterThan'
          threshold: failedJobsThreshold
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

// A model-monitor run whose signal breaches its metric_thresholds ends Failed with a breach message; the workspace's
// diagnostic setting (modules/workspace.bicep, all logs) sends run status changes to AmlRunStatusChangedEvent.
resource monitorBreachAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}-monitor-breach'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${alertNamePrefix}-monitor-breach'
    description: 'A model-monitor signal breached its threshold (monitoring/*.yml metric_thresholds).'
    severity: 2
    enabled: true
    scopes: [
      logAnalytics.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: 'AmlRunStatusChangedEvent | where Status == "Failed" | where Message contains "${monitorBreachMessage}"'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output actionGroupId string = actionGroup.id
output actionGroupName string = actionGroup.name
