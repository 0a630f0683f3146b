// Development: public endpoints (reachable from laptops and GitHub-hosted runners), smallest SKUs, no instance.
//   az deployment group create -g rg-mlops-dev -f infra/main.bicep -p infra/dev.bicepparam
using 'main.bicep'

param prefix = 'mlops'
param environment = 'dev'

// Security switches, open on purpose (infra/README.md, "Dev and prod", says why and what prod sets instead).
param enableNetworkIsolation = false
param allowStorageSharedKeyAccess = true
param allowAppInsightsLocalAuth = true
param monitorPublicNetworkAccessForIngestion = 'Enabled'
param monitorPublicNetworkAccessForQuery = 'Enabled'

// Object ID of the GitHub OIDC service principal (az ad sp show --id <app-id> --query id -o tsv); empty: none.
param ciPrincipalId = ''

param computeClusterName = 'cpu-cluster'
param computeClusterVmSize = 'Standard_DS3_v2'
param computeClusterMaxNodes = 2
param computeClusterIdleSecondsBeforeScaleDown = 120

param deployComputeInstance = false

param storageSkuName = 'Standard_LRS'
// A deleted dev key vault keeps its name for a week, not 90 days (fixed when the vault is created).
param keyVaultSoftDeleteRetentionInDays = 7
param logAnalyticsDailyQuotaGb = 1
