/**
 * The Artifact Registry API edge: the few repository calls mirrorhook makes, through @google-cloud/artifact-registry
 * on its REST transport (HTTP/1.1 JSON; no gRPC channel to keep alive, and the same wire the tests serve on
 * loopback). The library is loaded on first use, so runs that never touch Artifact Registry never load it.
 *
 * Failures become MH_GOOGLE_API with the API's status and message; NOT_FOUND on get is `undefined`.
 */
import type { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import { MirrorhookError } from '../errors.js';
import { type AccessTokenSource, cloudPlatformScope, noCredentials } from './credentials.js';

/** What mirrorhook needs to know of a repository. */
export interface RepositoryInfo {
  readonly name: string;
  /** `DOCKER`, `MAVEN`, … as the API names formats. */
  readonly format: string;
  /** `STANDARD_REPOSITORY`, `REMOTE_REPOSITORY`, `VIRTUAL_REPOSITORY`. */
  readonly mode: string;
  /** For a Docker remote repository: `DOCKER_HUB` or the custom upstream's URI. */
  readonly upstream: string | undefined;
}

/** The body of a CreateRepository call, as the REST API and `--dry-run` show it. */
export interface RepositorySpec {
  readonly format: 'DOCKER';
  readonly mode: 'STANDARD_REPOSITORY' | 'REMOTE_REPOSITORY';
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly remoteRepositoryConfig?: {
    readonly description: string;
    readonly dockerRepository: { readonly publicRepository: 'DOCKER_HUB' } | { readonly customRepository: { readonly uri: string } };
  };
}

export interface CreateRepositoryRequest {
  readonly parent: string;
  readonly repositoryId: string;
  readonly repository: RepositorySpec;
}

export interface RepositoryApi {
  getRepository(name: string): Promise<RepositoryInfo | undefined>;
  /** Creates and waits for the operation; MH_GOOGLE_API with `alreadyExists` set when the repository exists. */
  createRepository(request: CreateRepositoryRequest): Promise<RepositoryInfo>;
  close(): Promise<void>;
}

export interface RepositoryApiOptions {
  /** Where the API is: default `https://artifactregistry.googleapis.com`; `http://` only to a loopback address. */
  readonly endpoint?: string | undefined;
  /** Credentials for the API (default: Application Default Credentials). */
  readonly auth?: AccessTokenSource;
}

/** gRPC status codes the REST transport reports (google.rpc.Code). */
const Status = { notFound: 5, alreadyExists: 6, permissionDenied: 7, unauthenticated: 16 } as const;

export class ArtifactRegistryApiError extends MirrorhookError {
  readonly status: number | undefined;
  constructor(status: number | undefined, detail: string) {
    super('MH_GOOGLE_API', detail);
    this.status = status;
  }
  get alreadyExists(): boolean {
    return this.status === Status.alreadyExists;
  }
}

/** Parses `https://host[:port]` / `http://127.0.0.1:port` into the client library's endpoint options. */
export function endpointOptions(endpoint: string): { apiEndpoint: string; port: number; protocol: 'http' | 'https' } {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new MirrorhookError('MH_USAGE', `Artifact Registry API endpoint "${endpoint}" is not a URL such as https://artifactregistry.googleapis.com`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : undefined;
  if (protocol === undefined || (url.pathname !== '/' && url.pathname !== '')) {
    throw new MirrorhookError('MH_USAGE', `Artifact Registry API endpoint "${endpoint}" must be https://host[:port] with no path`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (protocol === 'http' && !(host === 'localhost' || host === '::1' || /^127\./.test(host))) {
    throw new MirrorhookError('MH_USAGE', `Artifact Registry API endpoint "${endpoint}": plain http only to a loopback address`);
  }
  return { apiEndpoint: host, port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port), protocol };
}

type LibraryClient = ArtifactRegistryClient;

export function artifactRegistryApi(options: RepositoryApiOptions = {}): RepositoryApi {
  let client: Promise<LibraryClient> | undefined;
  const open = (): Promise<LibraryClient> => {
    client ??= (async () => {
      const endpoint = options.endpoint === undefined ? {} : endpointOptions(options.endpoint);
      const { ArtifactRegistryClient } = await import('@google-cloud/artifact-registry');
      // The library takes any google-auth-library client; the narrow type keeps callers free to build one.
      let authClient: Awaited<ReturnType<AccessTokenSource['getClient']>> | undefined;
      try {
        authClient = options.auth === undefined ? undefined : await options.auth.getClient();
      } catch (error) {
        // Finding no credentials fails here, before any API call: said as such, whatever the library's words.
        throw new MirrorhookError('MH_GOOGLE_CREDENTIALS', noCredentials(error));
      }
      return new ArtifactRegistryClient({
        fallback: true,
        scopes: [cloudPlatformScope],
        ...endpoint,
        ...(authClient === undefined ? {} : { authClient: authClient as never }),
      });
    })();
    return client;
  };
  return {
    async getRepository(name) {
      const api = await open();
      try {
        const [repository] = await api.getRepository({ name });
        return describeRepository(repository);
      } catch (error) {
        if (statusOf(error) === Status.notFound) return undefined;
        throw apiError(error, `get ${name}`, 'roles/artifactregistry.reader');
      }
    },
    async createRepository(request) {
      const api = await open();
      try {
        const [operation] = await api.createRepository({
          parent: request.parent,
          repositoryId: request.repositoryId,
          repository: request.repository,
        });
        const [repository] = await operation.promise();
        return describeRepository(repository);
      } catch (error) {
        throw apiError(error, `create ${request.parent}/repositories/${request.repositoryId}`, 'roles/artifactregistry.repoAdmin');
      }
    },
    async close() {
      if (client !== undefined) await (await client).close();
    },
  };
}

interface LibraryRepository {
  name?: string | null;
  format?: unknown;
  mode?: unknown;
  remoteRepositoryConfig?: {
    dockerRepository?: { publicRepository?: unknown; customRepository?: { uri?: string | null } | null } | null;
  } | null;
}

function describeRepository(repository: LibraryRepository): RepositoryInfo {
  const docker = repository.remoteRepositoryConfig?.dockerRepository;
  const publicRepository = typeof docker?.publicRepository === 'string' && docker.publicRepository !== 'PUBLIC_REPOSITORY_UNSPECIFIED' ? docker.publicRepository : undefined;
  return {
    name: repository.name ?? '',
    format: enumText(repository.format, 'FORMAT_UNSPECIFIED'),
    mode: enumText(repository.mode, 'MODE_UNSPECIFIED'),
    upstream: publicRepository ?? (docker?.customRepository?.uri || undefined),
  };
}

function enumText(value: unknown, unspecified: string): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : unspecified;
}

/** HTTP statuses as google.rpc codes: the REST transport reports either, depending on where the call failed. */
const httpToRpc: Readonly<Record<number, number>> = { 404: Status.notFound, 409: Status.alreadyExists, 403: Status.permissionDenied, 401: Status.unauthenticated };

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const number = typeof code === 'number' ? code : typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : undefined;
  if (number === undefined) return undefined;
  return httpToRpc[number] ?? number;
}

/** The API's own words: `{"error": {"status", "message"}}` bodies become `NOT_FOUND: message`. */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(text) as { error?: { status?: string; message?: string } };
    if (body.error?.message !== undefined) return `${body.error.status ?? 'error'}: ${body.error.message}`;
  } catch {
    // not JSON: the library's own message
  }
  return text.split('\n')[0] ?? '';
}

function apiError(error: unknown, what: string, role: string): ArtifactRegistryApiError {
  if (error instanceof MirrorhookError) return new ArtifactRegistryApiError(undefined, `${what}: ${error.message}`);
  const status = statusOf(error);
  const message = messageOf(error);
  let hint = '';
  if (status === Status.permissionDenied) hint = `; the caller needs ${role} on the project or repository (and the Artifact Registry API enabled)`;
  if (status === Status.unauthenticated) hint = '; the access token was refused: check Application Default Credentials';
  return new ArtifactRegistryApiError(status, `${what}: ${message}${hint}`);
}
