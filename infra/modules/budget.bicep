// Monthly cost budget on the resource group: e-mails (and the alerts' action group) at a share of the amount spent
// and when the forecast reaches it. A budget only notifies; it never stops a resource. infra/README.md, "Budget".

@description('Budget name.')
param name string

@description('Monthly amount in the billing currency of the subscription.')
@minValue(1)
param amount int

@description('First day of the first budgeted month, yyyy-MM-01 (a past date must lie in the current month).')
param startDate string

@description('E-mail addresses notified; may be empty when the action group has receivers.')
param contactEmails array

@description('Resource ID of the action group also notified.')
param actionGroupId string

@description('Percentages of the amount actually spent that notify, lowest first (three of them).')
param actualThresholdsPercent array

@description('Percentage of the amount the month-end forecast must reach to notify.')
param forecastThresholdPercent int

resource budget 'Microsoft.Consumption/budgets@2024-08-01' = {
  name: name
  properties: {
    category: 'Cost'
    amount: amount
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: '${startDate}T00:00:00Z'
    }
    notifications: {
      actualFirst: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: actualThresholdsPercent[0]
        thresholdType: 'Actual'
        contactEmails: contactEmails
        contactGroups: [
          actionGroupId
        ]
      }
      actualSecond: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: actualThresholdsPercent[1]
        thresholdType: 'Actual'
        contactEmails: contactEmails
        contactGroups: [
          actionGroupId
        ]
      }
      actualThird: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: actualThresholdsPercent[2]
        thresholdType: 'Actual'
        contactEmails: contactEmails
        contactGroups: [
          actionGroupId
        ]
      }
      forecasted: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: forecastThresholdPercent
        thresholdType: 'Forecasted'
        contactEmails: contactEmails
        contactGroups: [
          actionGroupId
        ]
      }
    }
  }
}

output name string = budget.name
