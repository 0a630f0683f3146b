// Default storage account of the Azure ML workspace (workspaceblobstore, workspacefilestore, run artifacts).

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the resource.')
param tags object

@description('Replication SKU. Azure ML needs a general-purpose v2 account without hierarchical namespace.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param skuName string

@description('Disabled (network isolation): no public endpoint; Azure ML reaches it through its managed virtual network.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('false: Microsoft Entra ID only, no account keys or SAS signed with them (Azure ML: preview, see infra/README.md).')
param allowSharedKeyAccess bool

@description('Resource ID of the Log Analytics workspace for diagnostics.')
param logAnalyticsWorkspaceId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: the firewall follows publicNetworkAccess (Disabled -> Deny); dev keeps it open so laptops and GitHub-hosted runners can upload data and code. Checkov cannot evaluate the parameter; tests/contract/test_infra.py checks isolated -> Disabled/Deny.
  // checkov:skip=CKV_AZURE_206: replication is the storageSkuName parameter (LRS dev, ZRS prod); checkov cannot read parameters and counts only geo-redundant SKUs. Run outputs and models are reproducible; pick a GZRS SKU if you need a second region.
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  kind: 'StorageV2'
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: allowSharedKeyAccess
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    isHnsEnabled: false
    isLocalUserEnabled: false
    isSftpEnabled: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: (publicNetworkAccess == 'Disabled') ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Soft delete: an accidental delete of a run's outputs or a data asset can be undone for a week.
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

// Container behind the identity-based `training_data` datastore (infra/azureml/datastore-blob.yml). Azure ML
// creates its own containers for workspaceblobstore and workspacefilestore.
resource trainingDataContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'training-data'
  properties: {
    publicAccess: 'None'
  }
}

resource storageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    // Writes and deletes only: logging every read of training data would cost more than it tells.
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

output id string = storage.id
output name string = storage.name
