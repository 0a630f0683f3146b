// Production: network isolation on (private endpoint, managed virtual network, no public endpoints), dedicated
// nodes, zone-redundant storage.
//   az deployment group create -g rg-mlops-prod -f infra/main.bicep -p infra/prod.bicepparam
using 'main.bicep'

param prefix = 'mlops'
param environment = 'prod'
param enableNetworkIsolation = true
param allowStorageSharedKeyAccess = true

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
