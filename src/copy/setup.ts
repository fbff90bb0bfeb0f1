/**
 * The composition root for registry clients: every command and the webhook get theirs here, from the configuration
 * and the command's overrides (flags), so `credentials.dockerConfig`, `mirror.caFile` and `mirror.insecure` mean one
 * thing everywhere. Files (Docker config, CA files) are read once, when the settings are resolved; clients are then
 * cheap to make (the webhook makes one per Pod whose pull secrets it uses).
 */
import { readFile as readFileDefault } from 'node:fs/promises';
import { MirrorhookError } from '../errors.js';
import { parseMirrorRegistry } from '../mapping/mirror.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { type Credential, type CredentialProvider, chainProviders, dockerConfigCredentials, parseUserPass, staticProvider } from '../registry/credentials.js';
import { type RegistryHostOptions, apiHost } from '../registry/transport.js';

/** The configuration keys every registry client honours (validated by src/config). */
export interface RegistryConfig {
  readonly mirror: { readonly registry: string; readonly insecure: boolean; readonly caFile: string };
  readonly credentials: { readonly dockerConfig: string };
}

export interface RegistrySettings {
  readonly env: NodeJS.ProcessEnv;
  /**
   * The configuration. The mirror's host gets `mirror.insecure` and `mirror.caFile` whatever role it plays (source,
   * destination, the registry `ls` lists); `credentials.dockerConfig` is the Docker config unless `authFile` is given.
   */
  readonly config?: RegistryConfig | undefined;
  readonly sourceHosts?: readonly string[];
  readonly destinationHosts?: readonly string[];
  /** `user:password` for every source host. */
  readonly sourceCredentials?: string | undefined;
  /** `user:password` for every destination host. */
  readonly destinationCredentials?: string | undefined;
  /** `--authfile`: a Docker config.json or a Kubernetes `.dockerconfigjson`, over `credentials.dockerConfig`. */
  readonly authFile?: string | undefined;
  /** `--insecure`: plain HTTP to every registry of the run. */
  readonly insecure?: boolean | undefined;
  /** `--ca-file`: extra CA (PEM file) for the destination hosts, over `mirror.caFile`; also selects HTTPS on loopback. */
  readonly caFile?: string | undefined;
  /** Extra CA for the source hosts, over `mirror.caFile` when the mirror is a source. */
  readonly sourceCaFile?: string | undefined;
  /** More providers, asked before the flags and the Docker config (for example cloud access tokens). */
  readonly extraProviders?: readonly CredentialProvider[];
  /** Providers asked last, when neither the flags nor the Docker config know the host (Google ADC tokens). */
  readonly fallbackProviders?: readonly CredentialProvider[];
  readonly readFile?: (file: string) => Promise<string>;
}

export type ClientOptions = Omit<RegistryClientOptions, 'credentials' | 'hostOptions'>;

/** Resolved registry settings: files read, providers chained; hands out clients that share them. */
export interface RegistryClients {
  /** A new client (its own pools and token cache); `extraProviders` are asked first (a Pod's pull secrets). */
  client(options?: ClientOptions, extraProviders?: readonly CredentialProvider[]): RegistryClient;
}

/** The settings a copy, sync or push runs with, as in RegistrySettings, plus the client's own options. */
export interface CopyClientSettings extends RegistrySettings {
  readonly clientOptions?: ClientOptions;
}

/**
 * `copy` uploads blobs over this size in chunks, so a layer cut off midway resumes where the registry says it stands
 * instead of starting again (ADR 0130). Smaller blobs stream in one request: restarting them costs little.
 */
export const resumableUploadAbove = 64 * 1024 * 1024;

/**
 * The Docker config file credentials are read from: `--authfile` when given, else the configuration's
 * `credentials.dockerConfig`, else undefined (the default `$DOCKER_CONFIG/config.json`). One rule for every command.
 */
export function dockerConfigFile(authfile: string | undefined, credentials: { readonly dockerConfig: string } | undefined): string | undefined {
  if (authfile !== undefined) return authfile;
  return credentials === undefined || credentials.dockerConfig === '' ? undefined : credentials.dockerConfig;
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

/** Reads the files the settings name (a missing or broken one stops the start) and chains the credentials. */
export async function resolveRegistrySettings(settings: RegistrySettings): Promise<RegistryClients> {
  const read = settings.readFile ?? ((file: string) => readFileDefault(file, 'utf8'));
  const config = settings.config;
  const [destinationCa, sourceCa, mirrorCa] = await Promise.all([
    readRegistryCa(settings.caFile, read),
    readRegistryCa(settings.sourceCaFile, read),
    readRegistryCa(config?.mirror.caFile, read),
  ]);
  const sourceHosts = settings.sourceHosts ?? [];
  const destinationHosts = settings.destinationHosts ?? [];
  const everyHostInsecure = settings.insecure === true;
  const hostOptions = new Map<string, RegistryHostOptions>();
  const setHost = (domain: string, ca: string | undefined, insecure: boolean): void => {
    const host = apiHost(domain);
    const current = hostOptions.get(host) ?? {};
    hostOptions.set(host, { ...current, ...(insecure ? { insecure: true } : {}), ...(ca === undefined ? {} : { ca }) });
  };
  // The mirror first, so a flag given for the run (a CA for its sources or destinations) wins over the configuration.
  if (config !== undefined) setHost(parseMirrorRegistry(config.mirror.registry).domain, mirrorCa, config.mirror.insecure || everyHostInsecure);
  for (const host of sourceHosts) setHost(host, sourceCa, everyHostInsecure);
  for (const host of destinationHosts) setHost(host, destinationCa, everyHostInsecure);

  const fixed: Record<string, Credential> = {};
  if (settings.sourceCredentials !== undefined) {
    const credential = parseUserPass(settings.sourceCredentials, '--src-creds');
    for (const host of sourceHosts) fixed[host] = credential;
  }
  if (settings.destinationCredentials !== undefined) {
    const credential = parseUserPass(settings.destinationCredentials, '--dest-creds');
    for (const host of destinationHosts) fixed[host] = credential;
  }
  const configured = chainProviders(
    ...(settings.extraProviders ?? []),
    staticProvider(fixed),
    await dockerConfigCredentials({ env: settings.env, file: dockerConfigFile(settings.authFile, config?.credentials) }),
    ...(settings.fallbackProviders ?? []),
  );
  const options = (host: string): RegistryHostOptions => hostOptions.get(apiHost(host)) ?? (everyHostInsecure ? { insecure: true } : {});
  return {
    client: (clientOptions = {}, extraProviders = []) =>
      new RegistryClient({
        ...clientOptions,
        credentials: extraProviders.length === 0 ? configured : chainProviders(...extraProviders, configured),
        hostOptions: options,
      }),
  };
}

/** One client from the settings: what a command that runs one copy, sync, push, pull or listing uses. */
export async function createCopyClient(settings: CopyClientSettings): Promise<RegistryClient> {
  return (await resolveRegistrySettings(settings)).client(settings.clientOptions);
}
