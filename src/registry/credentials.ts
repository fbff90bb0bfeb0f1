/**
 * Where registry credentials come from. A CredentialProvider is `(registryHost) => Promise<Credential | undefined>`;
 * the RegistryClient asks its provider once per host and caches the answer. Providers compose with
 * `chainProviders` (first answer wins), so other modules add their own (for example Artifact Registry access
 * tokens) in front of the Docker ones:
 *
 *   const provider = chainProviders(staticProvider({ 'localhost:5000': parseUserPass('me:secret') }),
 *                                   dockerConfigProvider({ env: process.env }));
 *
 * Docker config.json and a Kubernetes `kubernetes.io/dockerconfigjson` secret's `.dockerconfigjson` share one
 * format and one parser (`parseDockerConfig`): `auths` entries, `credHelpers` per host and a default
 * `credsStore`, the helpers being `docker-credential-<name> get` programs.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MirrorhookError } from '../errors.js';

/**
 * Basic credentials, or an identity/registry token the registry's token server accepts. `expiresAt` (ms since the
 * epoch) marks a short-lived credential (a cloud access token): the client asks its provider again after it.
 */
export type Credential = (
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string }
) & { readonly expiresAt?: number };

export type CredentialProvider = (registryHost: string) => Promise<Credential | undefined>;

/** Canonical host for credential lookups: `https://index.docker.io/v1/` and friends are all `docker.io`. */
export function credentialHostKey(host: string): string {
  let key = host.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = key.indexOf('/');
  if (slash !== -1) key = key.slice(0, slash);
  key = key.toLowerCase();
  if (key === 'index.docker.io' || key === 'registry-1.docker.io' || key === 'registry.hub.docker.com') return 'docker.io';
  return key;
}

/** `user:password` as a credential flag takes it, `flag` naming it in errors (the password may contain colons). */
export function parseUserPass(text: string, flag = 'credentials'): Credential {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `${flag} must be user:password`);
  return { kind: 'basic', username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** A fixed map of host → credential. */
export function staticProvider(entries: Readonly<Record<string, Credential>>): CredentialProvider {
  const byHost = new Map(Object.entries(entries).map(([host, credential]) => [credentialHostKey(host), credential]));
  return (host) => Promise.resolve(byHost.get(credentialHostKey(host)));
}

/** The first provider that answers wins. */
export function chainProviders(...providers: readonly CredentialProvider[]): CredentialProvider {
  return async (host) => {
    for (const provider of providers) {
      const credential = await provider(host);
      if (credential !== undefined) return credential;
    }
    return undefined;
  };
}

export const anonymousProvider: CredentialProvider = () => Promise.resolve(undefined);

/** Runs `docker-credential-<helper> get` with the host on stdin; returns its {Username, Secret} JSON. */
export type CredentialHelperRunner = (helper: string, host: string) => Promise<string>;

const credentialsNotFound = 'credentials not found in native keychain';

export const runCredentialHelper: CredentialHelperRunner = (helper, host) =>
  new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const message = `${stdout}${stderr}`.trim();
        // The credential-helper protocol answers an unknown host with exactly this text and a non-zero exit (it is
        // the protocol's "not found" signal, as docker-credential-helpers' client reads it): no credential.
        if (stdout.trim() === credentialsNotFound) resolve('');
        else reject(new MirrorhookError('MH_REGISTRY_CREDENTIALS', `docker-credential-${helper} get failed for ${host}: ${message || error.message}`));
        return;
      }
      resolve(stdout);
    });
    // A helper may exit without reading stdin; the EPIPE that follows is not an error of ours.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(host);
  });

export interface DockerConfig {
  readonly auths: ReadonlyMap<string, Credential>;
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore: string | undefined;
}

/** Parses config.json / `.dockerconfigjson` text. `origin` names the file in error messages. */
export function parseDockerConfig(text: string, origin: string): DockerConfig {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `${origin} is not JSON (${(error instanceof Error ? error.message : String(error)).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200)})`);
  }
  if (!isRecord(body)) throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `${origin} is not a JSON object`);
  for (const key of ['auths', 'credHelpers'] as const) {
    if (body[key] !== undefined && !isRecord(body[key])) throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `${origin} "${key}" is not an object of host: value`);
  }
  const auths = new Map<string, Credential>();
  // A dockercfg (legacy) secret has the entries at the top level; a dockerconfigjson has them under "auths".
  const entries = isRecord(body.auths) ? body.auths : body.credHelpers === undefined && body.credsStore === undefined ? body : {};
  for (const [host, entry] of Object.entries(entries)) {
    if (!isRecord(entry)) continue;
    const credential = credentialFromEntry(entry, `${origin} auths["${host}"]`);
    if (credential !== undefined) auths.set(credentialHostKey(host), credential);
  }
  const credHelpers = new Map<string, string>();
  if (isRecord(body.credHelpers)) {
    for (const [host, helper] of Object.entries(body.credHelpers)) {
      if (typeof helper === 'string' && helper !== '') credHelpers.set(credentialHostKey(host), helperName(helper, `${origin} credHelpers["${host}"]`));
    }
  }
  const credsStore = typeof body.credsStore === 'string' && body.credsStore !== '' ? helperName(body.credsStore, `${origin} credsStore`) : undefined;
  return { auths, credHelpers, credsStore };
}

/** A helper is a program name (`docker-credential-<name>` on PATH): a path in it would run some other program. */
function helperName(name: string, where: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `${where} is ${JSON.stringify(name.slice(0, 80))}: a helper is a name like "gcloud" or "ecr-login", not a path`);
  }
  return name;
}

function credentialFromEntry(entry: Record<string, unknown>, where: string): Credential | undefined {
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '') return { kind: 'bearer', token: entry.registrytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `${where}.auth is not base64 of user:password`);
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { kind: 'basic', username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Looks a host up in a parsed config: credHelpers[host], then auths[host], then credsStore. */
export function dockerConfigLookup(config: DockerConfig, runHelper: CredentialHelperRunner = runCredentialHelper): CredentialProvider {
  return async (host) => {
    const key = credentialHostKey(host);
    const helper = config.credHelpers.get(key);
    if (helper !== undefined) return fromHelper(helper, key, runHelper);
    const direct = config.auths.get(key);
    if (direct !== undefined) return direct;
    if (config.credsStore !== undefined) return fromHelper(config.credsStore, key, runHelper);
    return undefined;
  };
}

async function fromHelper(helper: string, host: string, runHelper: CredentialHelperRunner): Promise<Credential | undefined> {
  // Docker Hub credentials are stored under the v1 index URL by `docker login`.
  const lookupHost = host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
  const output = (await runHelper(helper, lookupHost)).trim();
  if (output === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(output);
  } catch {
    throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `docker-credential-${helper} printed something other than JSON for ${host}`);
  }
  if (!isRecord(body) || typeof body.Secret !== 'string') {
    throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `docker-credential-${helper} answered without "Secret" for ${host}`);
  }
  const username = typeof body.Username === 'string' ? body.Username : '';
  // "<token>" is the helpers' convention for an identity token rather than a password.
  if (username === '' || username === '<token>') return { kind: 'bearer', token: body.Secret };
  return { kind: 'basic', username, password: body.Secret };
}

export interface DockerConfigProviderOptions {
  readonly env: NodeJS.ProcessEnv;
  /** An explicit config.json or `.dockerconfigjson` file; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  readonly file?: string | undefined;
  readonly runHelper?: CredentialHelperRunner;
}

/**
 * Credentials from the Docker config file, read once on first use. A missing default file means "no
 * credentials"; a missing explicit file is an error.
 */
export function dockerConfigProvider(options: DockerConfigProviderOptions): CredentialProvider {
  const file = options.file ?? join(options.env.DOCKER_CONFIG ?? join(options.env.HOME ?? homedir(), '.docker'), 'config.json');
  let lookup: Promise<CredentialProvider> | undefined;
  const load = async (): Promise<CredentialProvider> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (options.file === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return anonymousProvider;
      throw new MirrorhookError('MH_REGISTRY_CREDENTIALS', `cannot read ${file}: ${(error as Error).message}`);
    }
    return dockerConfigLookup(parseDockerConfig(text, file), options.runHelper);
  };
  return async (host) => {
    lookup ??= load();
    return (await lookup)(host);
  };
}

/**
 * The Docker config credentials a command runs with. A file the user named (a flag, or the configuration's
 * `credentials.dockerConfig`) is read and parsed now, so that a missing or broken file stops the command at start
 * (exit 2) rather than when a registry first asks for credentials, perhaps never; the default file stays lazy
 * and optional.
 */
export async function dockerConfigCredentials(options: DockerConfigProviderOptions): Promise<CredentialProvider> {
  const file = options.file;
  if (file === undefined) return dockerConfigProvider(options);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : (code ?? String(error));
    throw new MirrorhookError(
      'MH_REGISTRY_CREDENTIALS',
      `${file}: ${detail}; name a Docker config.json or a Kubernetes .dockerconfigjson, or leave it out to use ~/.docker/config.json`,
      { cause: error },
    );
  }
  return dockerConfigLookup(parseDockerConfig(text, file), options.runHelper);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
