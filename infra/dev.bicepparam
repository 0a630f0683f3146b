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
param computeClusterVmSize = 'Standard_DS2_v2'
param computeClusterMaxNodes = 1
param computeClusterIdleSecondsBeforeScaleDown = 120

param deployComputeInstance = false

param storageSkuName = 'Standard_LRS'
// A deleted dev key vault keeps its name for a week, not 90 days (fixed when the vault is created).
param keyVaultSoftDeleteRetentionInDays = 7
param logAnalyticsDailyQuotaGb = 1

// Fits a 6-vCPU regional quota (infra/README.md, "Budget and the dev quota profile"): cluster 1 x 2 vCPU, plus blue and
// green online deployments of 1 x 1 vCPU each, each reserving ceil(1.2 x 1) = 2 instances: 2 + 2 x 2 = 6 vCPUs.
param onlineInstanceType = 'Standard_DS1_v2'
param onlineInstanceCount = 1

// Alerts and budget: add addresses to be notified (alerts still show in the portal without any).
param alertEmails = []
param budgetAmount = 50
param budgetContactEmails = []
