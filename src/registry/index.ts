/**
 * The OCI distribution client. Start at `RegistryClient` (client.ts: manifests and blobs); session.ts sends every
 * request with authentication (authenticator.ts: credentials and tokens, from the pluggable providers of
 * credentials.ts); listing.ts reads tags, catalogs and referrers; upload.ts chunked uploads; transport.ts holds
 * connection pools, retries and the circuit breaker; failure.ts the typed RegistryError. See
 * docs/adr/0010-registry-client.md.
 */
export { RegistryClient } from './client.js';
export { RegistryError, isRegistryError } from './failure.js';
export type { BlobSource, Manifest, ManifestHead, MountResult, RegistryClientOptions, RepositoryRef } from './client.js';
export {
  anonymousProvider,
  chainProviders,
  credentialHostKey,
  dockerConfigLookup,
  dockerConfigCredentials,
  dockerConfigProvider,
  parseDockerConfig,
  parseUserPass,
  runCredentialHelper,
  staticProvider,
} from './credentials.js';
export type { Credential, CredentialHelperRunner, CredentialProvider, DockerConfig } from './credentials.js';
export { sha256Digest, verifyingStream } from './digest.js';
export {
  MediaType,
  blobsOf,
  formatPlatform,
  isIndexMediaType,
  isNonDistributable,
  manifestAccept,
  parseManifest,
  parsePlatform,
  platformMatches,
} from './manifest.js';
export type { Descriptor, ParsedManifest, Platform } from './manifest.js';
export { RegistryTransport, apiHost, isLoopbackHost, registryScheme } from './transport.js';
export type { CircuitBreakerPolicy, RegistryHostOptions, RetryPolicy, TransportOptions } from './transport.js';
export { mergeScopes, parseChallenge, repositoryScope } from './auth.js';
