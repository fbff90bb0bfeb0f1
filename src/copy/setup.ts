/**
 * Builds the RegistryClient a copy runs with, from what a user gives: `user:pass` flags for the source and
 * destination hosts, a Docker config / `.dockerconfigjson` file (or the default Docker config), CA files and
 * `insecure`. The webhook's background copy builds its client here too, from the configuration's mirror block.
 */
import { readFile as readFileDefault } from 'node:fs/promises';
import { MirrorhookError } from '../errors.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { type Credential, type CredentialProvider, chainProviders, dockerConfigCredentials, parseUserPass, staticProvider } from '../registry/credentials.js';
import { type RegistryHostOptions, apiHost } from '../registry/transport.js';

export interface CopyClientSettings {
  readonly env: NodeJS.ProcessEnv;
  readonly sourceHosts: readonly string[];
  readonly destinationHosts: readonly string[];
  /** `user:password` for every source host. */
  readonly sourceCredentials?: string | undefined;
  /** `user:password` for every destination host. */
  readonly destinationCredentials?: string | undefined;
  /** A Docker config.json or a Kubernetes `.dockerconfigjson`; default: `$DOCKER_CONFIG/config.json`. */
  readonly authFile?: string | undefined;
  /** Plain HTTP to every registry of the run. */
  readonly insecure?: boolean;
  /** Plain HTTP to the destination hosts only (the configuration's `mirror.insecure`). */
  readonly destinationInsecure?: boolean;
  /** Extra CA (PEM file) for the destination hosts; also selects HTTPS on a loopback destination. */
  readonly caFile?: string | undefined;
  /** Extra CA for the source hosts. */
  readonly sourceCaFile?: string | undefined;
  /** More providers, asked before the flags and the Docker config (for example cloud access tokens). */
  readonly extraProviders?: readonly CredentialProvider[];
  /** Providers asked last, when neither the flags nor the Docker config know the host (Google ADC tokens). */
  readonly fallbackProviders?: readonly CredentialProvider[];
  readonly clientOptions?: Omit<RegistryClientOptions, 'credentials' | 'hostOptions'>;
  readonly readFile?: (file: string) => Promise<string>;
}

/**
 * `copy` uploads blobs over this size in chunks, so a layer cut off midway resumes where the registry says it stands
 * instead of starting again (ADR 0130). Smaller blobs stream in one request: restarting them costs little.
 */
export const resumableUploadAbove = 64 * 1024 * 1024;

/**
 * The Docker config file a command reads credentials from: `--authfile` when given, else the configuration's
 * `credentials.dockerConfig`, else undefined (the default `$DOCKER_CONFIG/config.json`). One rule for every command.
 */
export function dockerConfigFile(authfile: string | undefined, credentials: { readonly dockerConfig: string }): string | undefined {
  if (authfile !== undefined) return authfile;
  return credentials.dockerConfig === '' ? undefined : credentials.dockerConfig;
}

/**
 * A registry's extra CA (`--ca-file`, `mirror.caFile`): read and checked to hold a PEM certificate, for the CLI and
 * the webhook alike. Undefined for no file.
 */
export async function readRegistryCa(
  file: string | undefined,
  read: (file: string) => Promise<string> = (path) => readFileDefault(path, 'utf8'),
): Promise<string | undefined> {
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = await read(file);
  } catch (error) {
    throw new MirrorhookError('MH_REGISTRY_CA_FILE', `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new MirrorhookError('MH_REGISTRY_CA_FILE', `${file} holds no PEM certificate`);
  return text;
}

export async function createCopyClient(settings: CopyClientSettings): Promise<RegistryClient> {
  const read = settings.readFile ?? ((file: string) => readFileDefault(file, 'utf8'));
  const [destinationCa, sourceCa] = await Promise.all([readRegistryCa(settings.caFile, read), readRegistryCa(settings.sourceCaFile, read)]);
  const hostOptions = new Map<string, RegistryHostOptions>();
  const setHost = (domain: string, ca: string | undefined, insecure: boolean): void => {
    const host = apiHost(domain);
    const current = hostOptions.get(host) ?? {};
    hostOptions.set(host, { ...current, ...(insecure ? { insecure: true } : {}), ...(ca === undefined ? {} : { ca }) });
  };
  for (const host of settings.sourceHosts) setHost(host, sourceCa, settings.insecure === true);
  for (const host of settings.destinationHosts) setHost(host, destinationCa, settings.insecure === true || settings.destinationInsecure === true);

  const fixed: Record<string, Credential> = {};
  if (settings.sourceCredentials !== undefined) {
    const credential = parseUserPass(settings.sourceCredentials, '--src-creds');
    for (const host of settings.sourceHosts) fixed[host] = credential;
  }
  if (settings.destinationCredentials !== undefined) {
    const credential = parseUserPass(settings.destinationCredentials, '--dest-creds');
    for (const host of settings.destinationHosts) fixed[host] = credential;
  }
  const credentials = chainProviders(
    ...(settings.extraProviders ?? []),
    staticProvider(fixed),
    await dockerConfigCredentials({ env: settings.env, file: settings.authFile }),
    ...(settings.fallbackProviders ?? []),
  );
  return new RegistryClient({
    ...settings.clientOptions,
    credentials,
    hostOptions: (host) => hostOptions.get(host) ?? (settings.insecure ? { insecure: true } : {}),
  });
}
