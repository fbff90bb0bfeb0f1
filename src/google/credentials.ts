/**
 * Registry credentials for Google hosts (`*.pkg.dev`, `gcr.io`, `*.gcr.io`), as a CredentialProvider that composes
 * with the Docker ones (`chainProviders`). Two forms, both Basic auth, as Artifact Registry documents them:
 *
 *  - `oauth2accesstoken:<access token>`: the token comes from Application Default Credentials through
 *    google-auth-library (GOOGLE_APPLICATION_CREDENTIALS key file, `gcloud auth application-default login`
 *    user credentials, the metadata server / GKE workload identity, workload identity federation). The
 *    credential carries `expiresAt`, so the RegistryClient asks again before the token runs out.
 *  - `_json_key:<service-account key JSON>`: when the user gives a key file explicitly (mirror.googleJsonKeyFile).
 *
 * Tokens and keys are never put into messages or logs: errors name the source (the file, ADC) only.
 * See docs/adr/0050-google-credentials.md.
 */
import type { GoogleAuthOptions } from 'google-auth-library';
import { MirrorhookError, describeError } from '../errors.js';
import { type Credential, type CredentialProvider, credentialHostKey } from '../registry/credentials.js';
import { isGoogleRegistryHost } from './repository.js';

export const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';

/** The part of a google-auth-library client the provider uses (tests pass a GoogleAuth built their own way). */
export interface AccessTokenSource {
  getClient(): Promise<{
    getAccessToken(): Promise<{ token?: string | null }>;
    readonly credentials?: { readonly expiry_date?: number | null };
  }>;
}

export interface GoogleCredentialOptions {
  /** ADC by default: `new GoogleAuth({ scopes: cloud-platform })`, which reads the environment on first use. */
  readonly auth?: AccessTokenSource;
  /** The text of a service-account key file: sent as `_json_key` instead of access tokens. */
  readonly jsonKey?: string | undefined;
  /** Which hosts get Google credentials (default `isGoogleRegistryHost`). */
  readonly isGoogleHost?: (host: string) => boolean;
  readonly now?: () => number;
}

/** Username Artifact Registry and Container Registry accept with an OAuth access token as the password. */
export const accessTokenUsername = 'oauth2accesstoken';
export const jsonKeyUsername = '_json_key';

/** Asked again this long before the token expires (google-auth-library refreshes within its own 5 minutes). */
const refreshMarginMs = 5 * 60 * 1000;
/** When the library reports no expiry: ask again after a minute (it serves its cached token meanwhile). */
const unknownExpiryMs = 60 * 1000;

/**
 * A GoogleAuth (Application Default Credentials unless a key is given) whose library is loaded on first use: a
 * process that never meets a Google host does not pay for google-auth-library.
 */
export function lazyGoogleAuth(options: Pick<GoogleAuthOptions, 'keyFilename' | 'credentials'> = {}): AccessTokenSource {
  let auth: Promise<AccessTokenSource> | undefined;
  return {
    async getClient() {
      auth ??= import('google-auth-library').then(({ GoogleAuth }) => new GoogleAuth({ ...options, scopes: [cloudPlatformScope] }));
      return (await auth).getClient();
    },
  };
}

export function googleCredentialProvider(options: GoogleCredentialOptions = {}): CredentialProvider {
  const isGoogleHost = options.isGoogleHost ?? isGoogleRegistryHost;
  const now = options.now ?? Date.now;
  if (options.jsonKey !== undefined) {
    const credential: Credential = { kind: 'basic', username: jsonKeyUsername, password: checkJsonKey(options.jsonKey) };
    return (host) => Promise.resolve(isGoogleHost(credentialHostKey(host)) ? credential : undefined);
  }
  let auth = options.auth;
  return async (host) => {
    if (!isGoogleHost(credentialHostKey(host))) return undefined;
    auth ??= lazyGoogleAuth();
    return accessTokenCredential(auth, now);
  };
}

async function accessTokenCredential(auth: AccessTokenSource, now: () => number): Promise<Credential> {
  let token: string | null | undefined;
  let expiry: number | null | undefined;
  // Which step failed says what to do, not the library's wording: finding no credentials at all is told apart
  // from credentials that were found and refused.
  let client: Awaited<ReturnType<AccessTokenSource['getClient']>>;
  try {
    client = await auth.getClient();
  } catch (error) {
    throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', noCredentials(error));
  }
  try {
    token = (await client.getAccessToken()).token;
    expiry = client.credentials?.expiry_date;
  } catch (error) {
    throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', `getting an access token from Application Default Credentials failed: ${firstLine(error)}`);
  }
  if (typeof token !== 'string' || token === '') {
    throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', 'Application Default Credentials gave no access token');
  }
  const fetchedAt = now();
  let expiresAt: number;
  if (typeof expiry === 'number' && expiry > 0) {
    // The library's expiry is on the wall clock; the credential's is on ours (the same one outside tests).
    const remaining = Math.max(0, expiry - Date.now());
    // Half of a short lifetime, five minutes of a normal one: never hand out a token that expires in flight.
    expiresAt = fetchedAt + remaining - Math.min(refreshMarginMs, remaining / 2);
  } else {
    expiresAt = fetchedAt + unknownExpiryMs;
  }
  return { kind: 'basic', username: accessTokenUsername, password: token, expiresAt };
}

/** Application Default Credentials found nothing to use: the library's words (never a secret) and what to do. */
export function noCredentials(error: unknown): string {
  return `no Application Default Credentials (${firstLine(error)}); set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run "gcloud auth application-default login", or run with a service account (metadata server, GKE workload identity)`;
}

function firstLine(error: unknown): string {
  return describeError(error).split('\n')[0] ?? '';
}

/** Checks that a `_json_key` is a service-account key; returns it trimmed. Never echoes its content. */
export function checkJsonKey(text: string, origin = 'mirror.googleJsonKeyFile'): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', `${origin} is not JSON: give a service-account key file (gcloud iam service-accounts keys create)`);
  }
  const key = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (key.type !== 'service_account' || typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', `${origin} is not a service-account key (type "service_account" with client_email and private_key)`);
  }
  return text.trim();
}
