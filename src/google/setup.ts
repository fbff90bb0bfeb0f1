/**
 * Everything a RegistryClient needs to use Artifact Registry as the mirror, from the configuration's mirror block:
 *
 *   const google = await googleRegistrySetup(config.mirror, { env: process.env });
 *   const client = await createCopyClient({ ..., extraProviders: [google.credentials],
 *                                           clientOptions: { prepareRepository: google.prepareRepository } });
 *   ...
 *   await google.close();
 *
 * Nothing Google is contacted until a Google host is used: a mirror elsewhere pays nothing.
 */
import { readFile as readFileDefault } from 'node:fs/promises';
import { MirrorhookError } from '../errors.js';
import type { RepositoryRef } from '../registry/client.js';
import type { CredentialProvider } from '../registry/credentials.js';
import { type RepositoryApi, artifactRegistryApi } from './api.js';
import { type AccessTokenSource, checkJsonKey, googleCredentialProvider, lazyGoogleAuth } from './credentials.js';
import { type ProvisionOptions, artifactRegistryProvisioner } from './provision.js';

/** Environment variable naming another Artifact Registry API endpoint (Private Service Connect, tests). */
export const apiEndpointVariable = 'MIRRORHOOK_ARTIFACT_REGISTRY_ENDPOINT';

export interface GoogleSetupOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Credentials for tokens and the API; default from the key file, else Application Default Credentials. */
  readonly auth?: AccessTokenSource;
  readonly api?: RepositoryApi;
  readonly isGoogleHost?: (host: string) => boolean;
  readonly locationOf?: ProvisionOptions['locationOf'];
  readonly onCreated?: ProvisionOptions['onCreated'];
  readonly readFile?: (file: string) => Promise<string>;
  /** The clock credential expiry is written in: pass the RegistryClient's `now` when it has one. */
  readonly now?: () => number;
}

export interface GoogleRegistrySetup {
  /** Put it in front of the Docker providers (CopyClientSettings.extraProviders). */
  readonly credentials: CredentialProvider;
  /** RegistryClientOptions.prepareRepository. */
  readonly prepareRepository: (repo: RepositoryRef) => Promise<void>;
  readonly api: RepositoryApi;
  close(): Promise<void>;
}

/** The `mirror:` keys that concern Artifact Registry (validated by src/config; absent means not used). */
export interface GoogleMirrorSettings {
  readonly createRepository?: boolean | undefined;
  readonly repositoryDescription?: string | undefined;
  readonly repositoryLabels?: Readonly<Record<string, string>> | undefined;
  readonly googleJsonKeyFile?: string | undefined;
}

/** Reads `mirror.googleJsonKeyFile` (when set) and builds the credential provider, the API and the provisioner. */
export async function googleRegistrySetup(mirror: GoogleMirrorSettings, options: GoogleSetupOptions): Promise<GoogleRegistrySetup> {
  const read = options.readFile ?? ((file: string) => readFileDefault(file, 'utf8'));
  let jsonKey: string | undefined;
  if (mirror.googleJsonKeyFile !== undefined) {
    try {
      jsonKey = checkJsonKey(await read(mirror.googleJsonKeyFile), mirror.googleJsonKeyFile);
    } catch (error) {
      if (error instanceof MirrorhookError) throw error;
      throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', `cannot read mirror.googleJsonKeyFile ${mirror.googleJsonKeyFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const auth = options.auth ?? defaultAuth(options.env, jsonKey);
  const api = options.api ?? artifactRegistryApi({ auth, endpoint: options.env[apiEndpointVariable] || undefined });
  const credentials = googleCredentialProvider({
    auth,
    jsonKey,
    ...(options.isGoogleHost === undefined ? {} : { isGoogleHost: options.isGoogleHost }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const prepareRepository = artifactRegistryProvisioner({
    api,
    createRepository: mirror.createRepository ?? false,
    description: mirror.repositoryDescription,
    labels: mirror.repositoryLabels,
    locationOf: options.locationOf,
    onCreated: options.onCreated,
  });
  return { credentials, prepareRepository, api, close: () => api.close() };
}

/**
 * Application Default Credentials, with GOOGLE_APPLICATION_CREDENTIALS taken from the given environment rather
 * than the process's; an explicit key file serves the API calls too.
 */
export function defaultAuth(env: NodeJS.ProcessEnv, jsonKey?: string): AccessTokenSource {
  if (jsonKey !== undefined) return lazyGoogleAuth({ credentials: JSON.parse(jsonKey) as Record<string, string> });
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  return lazyGoogleAuth(keyFile === undefined || keyFile === '' ? {} : { keyFilename: keyFile });
}
