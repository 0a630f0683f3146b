// Production: secure by default. Network isolation on (private endpoints, managed virtual network, no public
// endpoints), no shared keys on storage, Application Insights and Log Analytics reachable only through the Azure
// Monitor Private Link Scope and without local auth; dedicated nodes, zone-redundant storage. Every security switch
// is set here, never left to main.bicep's (dev) default: tests/contract/test_infra.py checks what each resolves to.
//   az deployment group create -g rg-mlops-prod -f infra/main.bicep -p infra/prod.bicepparam
using 'main.bicep'

param prefix = 'mlops'
param environment = 'prod'

// Security switches (infra/README.md, "Dev and prod").
param enableNetworkIsolation = true
param allowStorageSharedKeyAccess = false
param allowAppInsightsLocalAuth = false
param monitorPublicNetworkAccessForIngestion = 'Disabled'
param monitorPublicNetworkAccessForQuery = 'Disabled'

// Object ID of the GitHub OIDC service principal for the production environment; empty: none.
param ciPrincipalId = ''

param computeClusterName = 'cpu-cluster'
param computeClusterVmSize = 'Standard_DS3_v2'
param computeClusterVmPriority = 'Dedicated'
param computeClusterMaxNodes = 4
param computeClusterIdleSecondsBeforeScaleDown = 120

param deployComputeInstance = false

param storageSkuName = 'Standard_ZRS'
param logAnalyticsDailyQuotaGb = 5
param vnetAddressPrefix = '10.40.0.0/16'
param privateEndpointSubnetPrefix = '10.40.1.0/24'

// Serving: 3 instances per deployment, as Azure ML recommends for production (quota: ceil(1.2 x 3) x 4 = 16 vCPUs
// per deployment; 32 during a blue/green rollout).
param onlineInstanceType = 'Standard_DS3_v2'
param onlineInstanceCount = 3

// Alerts and budget: set the on-call addresses before deploying.
param alertEmails = []
param budgetAmount = 1000
param budgetContactEmails = []
