// Least-privilege role assignments for the two identities this template knows about:
//   - the CI identity (a GitHub OIDC federated principal) that submits training pipelines and registers models;
//   - the compute cluster's identity, which runs the jobs: system-assigned, or user-assigned when the storage account
//     refuses shared keys (modules/compute-cluster.bicep says why).
// The workspace's own (system-assigned) identity gets none here: Azure ML documents that it creates that identity's
// role assignments on the linked resources itself (for identity-based system datastores too), and a second
// assignment of the same role to the same principal at the same scope fails the deployment (RoleAssignmentExists).
// Each assignment is named guid(scope, principal, role), so a redeploy finds it instead of duplicating it, and
// carries a description that says why it exists (shown in the portal's Access control blade).

@description('Name of the Azure ML workspace.')
param workspaceName string

@description('Name of the workspace storage account.')
param storageAccountName string

@description('Name of the workspace container registry.')
param containerRegistryName string

@description('Name of the workspace key vault.')
param keyVaultName string

@description('Object ID of the CI service principal (GitHub OIDC federated credential); empty: no CI assignments.')
param ciPrincipalId string

@description('Object ID of the compute cluster\'s identity (system- or user-assigned).')
param clusterPrincipalId string

@description('true when the storage account refuses shared keys: callers then need data-plane roles of their own.')
param identityBasedStorageAccess bool

@description('true: the cluster may read workspace key vault secrets (only if job code reads secrets directly).')
param clusterReadsKeyVaultSecrets bool

// Built-in role definition IDs (the same GUID in every tenant).
var roles = {
  azureMLDataScientist: 'f6c7c914-8db3-469d-8ca1-694a8f32e121'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

var deployCiAssignments = !empty(ciPrincipalId)

resource workspace 'Microsoft.MachineLearningServices/workspaces@2025-12-01' existing = {
  name: workspaceName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: containerRegistryName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// CI -> AzureML Data Scientist on the workspace: submit pipeline jobs, read metrics, register models and manage
// endpoints, but not create or delete compute or change the workspace itself (the infrastructure does that).
resource ciDataScientist 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployCiAssignments) {
  name: guid(workspace.id, ciPrincipalId, roles.azureMLDataScientist)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.azureMLDataScientist)
    principalId: ciPrincipalId
    principalType: 'ServicePrincipal'
    description: 'CI (GitHub OIDC): submit training pipelines and register models; no compute or workspace changes.'
  }
}

// CI -> Storage Blob Data Contributor on the storage account, only when shared keys are off: job submission then
// uploads code snapshots (and local model files) with the caller's own Entra ID token instead of a workspace SAS.
resource ciBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployCiAssignments && identityBasedStorageAccess) {
  name: guid(storage.id, ciPrincipalId, roles.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: ciPrincipalId
    principalType: 'ServicePrincipal'
    description: 'CI (GitHub OIDC): upload code snapshots and model files when the storage account refuses shared keys.'
  }
}

// CI -> Storage Blob Data Reader on the storage account, when shared keys are on (with keys off the contributor role
// above already reads): the monitor workflow downloads the deployment's collected inference data to run the local
// monitor's retrain rule on it. Read-only.
resource ciBlobReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployCiAssignments && !identityBasedStorageAccess) {
  name: guid(storage.id, ciPrincipalId, roles.storageBlobDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: ciPrincipalId
    principalType: 'ServicePrincipal'
    description: 'CI (GitHub OIDC): read the collected inference data for the monitor workflow.'
  }
}

// Cluster -> Storage Blob Data Contributor on the storage account: jobs read their inputs and write outputs and
// MLflow artifacts with the cluster's identity (identity-based data access; no keys on the nodes).
resource clusterBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, clusterPrincipalId, roles.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: clusterPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Compute cluster: read job inputs, write job outputs and MLflow artifacts with its own identity.'
  }
}

// Cluster -> AcrPull on the registry: nodes pull the environment images; the registry has no admin user to fall
// back on.
resource clusterAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, clusterPrincipalId, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: clusterPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Compute cluster: pull environment images (the registry admin user is disabled).'
  }
}

// Cluster -> Key Vault Secrets User on the vault, opt-in: only for job code that reads secrets itself (read-only,
// no keys or certificates). Off by default because the template's pipeline reads no secrets.
resource clusterSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (clusterReadsKeyVaultSecrets) {
  name: guid(keyVault.id, clusterPrincipalId, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: clusterPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Compute cluster: read workspace key vault secrets from job code (opt-in).'
  }
}
