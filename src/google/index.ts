/**
 * Google Artifact Registry as the mirror: access-token credentials for Google hosts (credentials.ts), creating a
 * missing repository before the first push (provision.ts), remote repositories that serve a source without copying
 * (remote.ts), the API edge (api.ts) and the composition a RegistryClient uses (setup.ts). Names and hosts are pure
 * functions in repository.ts. See docs/adr/0050-0052.
 */
export { ArtifactRegistryApiError, artifactRegistryApi, endpointOptions } from './api.js';
export type { CreateRepositoryRequest, RepositoryApi, RepositoryApiOptions, RepositoryInfo, RepositorySpec } from './api.js';
export { accessTokenUsername, checkJsonKey, cloudPlatformScope, googleCredentialProvider, jsonKeyUsername, lazyGoogleAuth } from './credentials.js';
export type { AccessTokenSource, GoogleCredentialOptions } from './credentials.js';
export { artifactRegistryProvisioner, defaultRepositoryDescription, standardRepositoryRequest } from './provision.js';
export type { ProvisionOptions } from './provision.js';
export {
  createRemoteRepository,
  defaultRemoteRepositoryId,
  gcloudRemoteCommand,
  remoteRepositoryRequest,
  restForm,
  upstreamOf,
} from './remote.js';
export type { RemoteOutcome } from './remote.js';
export {
  artifactRepositoryOf,
  gcloudCreateCommand,
  isGoogleRegistryHost,
  labelProblem,
  locationOfHost,
  parseRepositoryPath,
  remoteRepositoryProblem,
  repositoryIdProblem,
  repositoryRegistryPath,
  repositoryResourceName,
} from './repository.js';
export type { ArtifactRepository } from './repository.js';
export { apiEndpointVariable, defaultAuth, googleRegistrySetup } from './setup.js';
export type { GoogleRegistrySetup, GoogleSetupOptions } from './setup.js';
