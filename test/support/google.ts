/**
 * A stand-in for the Google endpoints mirrorhook talks to, on one loopback HTTP server, so that the real
 * google-auth-library and @google-cloud/artifact-registry code runs end to end without the internet.
 *
 * WHAT IS SIMULATED (and what is not):
 *  - `POST /token`: the OAuth 2.0 token endpoint (oauth2.googleapis.com/token). It verifies the RS256 signature of
 *    a service-account JWT bearer assertion against the test key's public half (and accepts the refresh_token grant
 *    of gcloud user credentials), then issues a known access token. google-auth-library has the Google URL built
 *    in, so tests reach this endpoint through `redirectingTransporter()`: a Gaxios whose request interceptor rewrites
 *    the host `oauth2.googleapis.com` to this server. Everything else (the key file, JWT signing, the grant, expiry
 *    bookkeeping, refresh) is the library's own code.
 *  - `/computeMetadata/v1/...`: the GCE/GKE metadata server (what workload identity answers on a node). The library
 *    finds it through its documented GCE_METADATA_HOST variable, so no redirect is needed.
 *  - `/v1/projects/.../repositories...`: the Artifact Registry REST API (get and create repository, the create
 *    operation and its polling), the JSON the client library's REST transport sends and parses. Repositories live in
 *    memory; project `forbidden-project` answers PERMISSION_DENIED. The library reaches it with `apiEndpoint`/`port`
 *    and `protocol: 'http'`.
 *  - docker.pkg.dev itself is not here: tests use a real loopback docker-registry with htpasswd user
 *    `oauth2accesstoken` and the known token as password (test/support/registry.ts).
 */
import { type KeyObject, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaxios } from 'google-auth-library';

export const googleTokenHost = 'oauth2.googleapis.com';
export const serviceAccountEmail = 'mirror-writer@test-project.iam.gserviceaccount.com';

export interface FakeGoogleOptions {
  /** The access token issued by every grant (default: random, like `ya29.` tokens). */
  readonly token?: string;
  /** expires_in of issued tokens (default 3600). */
  readonly tokenLifetimeSeconds?: number;
  /** How many polls a create operation takes before it is done (default 1: the client must poll once). */
  readonly operationPolls?: number;
  /** Where to listen (default 127.0.0.1, an ephemeral port). */
  readonly listen?: { readonly host: string; readonly port: number };
  /** Serve HTTPS with this certificate (PEM), as the real endpoints do: for the docs sandbox, where Google's names resolve here. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface StoredRepository {
  name: string;
  format: string;
  mode: string;
  description: string;
  labels: Record<string, string>;
  remoteRepositoryConfig?: unknown;
}

export interface FakeGoogle {
  /** http://127.0.0.1:port */
  readonly url: string;
  readonly token: string;
  tokenLifetimeSeconds: number;
  /** One entry per token issued: the grant type and who asked. */
  readonly tokenRequests: { grant: string; subject: string }[];
  /** Every Artifact Registry API call: method, path (no query), repositoryId for creates, the body. */
  readonly apiRequests: { method: string; path: string; repositoryId?: string; body?: Record<string, unknown> }[];
  readonly repositories: Map<string, StoredRepository>;
  /** A service-account key file whose JWTs this server accepts (token_uri is Google's, as in real key files). */
  readonly keyFile: string;
  readonly keyJson: string;
  /** A gcloud `application_default_credentials.json` (authorized_user) this server accepts. */
  readonly userCredentialsFile: string;
  /** A folder to use as CLOUDSDK_CONFIG so ADC finds no gcloud credentials. */
  readonly emptyDir: string;
  close(): Promise<void>;
}

/** Enum names as the REST API writes them, from the numbers the client sends with enum-encoding=int. */
const formats: Record<number, string> = { 0: 'FORMAT_UNSPECIFIED', 1: 'DOCKER', 2: 'MAVEN', 3: 'NPM' };
const modes: Record<number, string> = { 0: 'MODE_UNSPECIFIED', 1: 'STANDARD_REPOSITORY', 2: 'VIRTUAL_REPOSITORY', 3: 'REMOTE_REPOSITORY' };
const publicRepositories: Record<number, string> = { 0: 'PUBLIC_REPOSITORY_UNSPECIFIED', 1: 'DOCKER_HUB' };

export async function startFakeGoogle(options: FakeGoogleOptions = {}): Promise<FakeGoogle> {
  const token = options.token ?? `ya29.test-${randomBytes(12).toString('base64url')}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-google-'));
  const keyJson = JSON.stringify({
    type: 'service_account',
    project_id: 'test-project',
    private_key_id: randomBytes(8).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: serviceAccountEmail,
    client_id: '1234567890',
    token_uri: `https://${googleTokenHost}/token`,
  });
  const keyFile = join(dir, 'key.json');
  await writeFile(keyFile, keyJson);
  const refreshToken = `1//refresh-${randomBytes(8).toString('hex')}`;
  const userCredentialsFile = join(dir, 'application_default_credentials.json');
  await writeFile(userCredentialsFile, JSON.stringify({ type: 'authorized_user', client_id: 'gcloud-client', client_secret: 'gcloud-secret', refresh_token: refreshToken }));
  const emptyDir = await mkdtemp(join(tmpdir(), 'mirrorhook-gcloud-'));

  const state: FakeGoogle = {
    url: '',
    token,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    tokenRequests: [],
    apiRequests: [],
    repositories: new Map(),
    keyFile,
    keyJson,
    userCredentialsFile,
    emptyDir,
    close: () => Promise.resolve(),
  };
  const operations = new Map<string, { polls: number; repository: StoredRepository }>();

  const issue = (response: ServerResponse, grant: string, subject: string): void => {
    state.tokenRequests.push({ grant, subject });
    json(response, 200, { access_token: token, expires_in: state.tokenLifetimeSeconds, token_type: 'Bearer' });
  };

  const handleToken = (body: string, response: ServerResponse): void => {
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type') ?? '';
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const claims = verifyAssertion(form.get('assertion') ?? '', publicKey);
      if (claims === undefined || claims.iss !== serviceAccountEmail || !String(claims.scope).includes('cloud-platform')) {
        json(response, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        return;
      }
      issue(response, grant, String(claims.iss));
      return;
    }
    if (grant === 'refresh_token' && form.get('refresh_token') === refreshToken) {
      issue(response, grant, form.get('client_id') ?? '');
      return;
    }
    json(response, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
  };

  const handleMetadata = (request: IncomingMessage, response: ServerResponse, path: string): void => {
    if (request.headers['metadata-flavor'] !== 'Google') {
      response.writeHead(403).end('Missing Metadata-Flavor: Google');
      return;
    }
    response.setHeader('metadata-flavor', 'Google');
    if (path === '/computeMetadata/v1/instance' || path === '/computeMetadata/v1/instance/') {
      response.writeHead(200, { 'content-type': 'application/text' }).end('');
    } else if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      issue(response, 'metadata', 'default');
    } else if (path === '/computeMetadata/v1/universe/universe-domain') {
      response.writeHead(200, { 'content-type': 'application/text' }).end('googleapis.com');
    } else if (path === '/computeMetadata/v1/project/project-id') {
      response.writeHead(200, { 'content-type': 'application/text' }).end('test-project');
    } else {
      response.writeHead(404).end('not found');
    }
  };

  /**
   * Google APIs take an OAuth access token, or a service account's self-signed JWT with the scope in it (which the
   * client library prefers for key files): the signature is checked against the key's public half.
   */
  const apiAuthorized = (authorization: string | undefined): boolean => {
    if (authorization === `Bearer ${token}`) return true;
    const claims = authorization?.startsWith('Bearer ') ? verifyAssertion(authorization.slice(7), publicKey) : undefined;
    return (
      claims !== undefined &&
      claims.iss === serviceAccountEmail &&
      String(claims.scope).includes('cloud-platform') &&
      typeof claims.exp === 'number' &&
      claims.exp * 1000 > Date.now()
    );
  };

  const handleApi = (request: IncomingMessage, response: ServerResponse, url: URL, body: string): void => {
    const path = url.pathname.replace(/:.*$/, '');
    const parsed = body === '' ? undefined : (JSON.parse(body) as Record<string, unknown>);
    const repositoryId = url.searchParams.get('repositoryId') ?? undefined;
    state.apiRequests.push({ method: request.method ?? '', path, ...(repositoryId === undefined ? {} : { repositoryId }), ...(parsed === undefined ? {} : { body: parsed }) });
    if (!apiAuthorized(request.headers.authorization)) {
      apiError(response, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      return;
    }
    if (path.startsWith('/v1/projects/forbidden-project/')) {
      apiError(response, 403, 'PERMISSION_DENIED', "Permission 'artifactregistry.repositories.get' denied on resource (or it may not exist).");
      return;
    }
    const repositoryMatch = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+)$/.exec(path);
    const collectionMatch = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/repositories$/.exec(path);
    const operationMatch = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+)$/.exec(path);
    if (request.method === 'GET' && repositoryMatch) {
      const stored = state.repositories.get(repositoryMatch[1] ?? '');
      if (stored === undefined) apiError(response, 404, 'NOT_FOUND', `Requested entity was not found.`);
      else json(response, 200, stored);
      return;
    }
    if (request.method === 'POST' && collectionMatch && repositoryId !== undefined && parsed !== undefined) {
      const name = `${collectionMatch[1]}/repositories/${repositoryId}`;
      if (state.repositories.has(name)) {
        apiError(response, 409, 'ALREADY_EXISTS', `the repository already exists`);
        return;
      }
      const remote = parsed.remoteRepositoryConfig as { dockerRepository?: { publicRepository?: unknown } } | undefined;
      if (remote?.dockerRepository !== undefined && typeof remote.dockerRepository.publicRepository === 'number') {
        remote.dockerRepository.publicRepository = publicRepositories[remote.dockerRepository.publicRepository];
      }
      const repository: StoredRepository = {
        name,
        format: enumName(parsed.format, formats),
        mode: enumName(parsed.mode ?? 0, modes),
        description: typeof parsed.description === 'string' ? parsed.description : '',
        labels: (parsed.labels as Record<string, string> | undefined) ?? {},
        ...(remote === undefined ? {} : { remoteRepositoryConfig: remote }),
      };
      const operation = `${collectionMatch[1]}/operations/${randomBytes(6).toString('hex')}`;
      operations.set(operation, { polls: options.operationPolls ?? 1, repository });
      json(response, 200, { name: operation, done: false });
      return;
    }
    if (request.method === 'GET' && operationMatch) {
      const operation = operations.get(operationMatch[1] ?? '');
      if (operation === undefined) {
        apiError(response, 404, 'NOT_FOUND', 'no such operation');
        return;
      }
      operation.polls -= 1;
      if (operation.polls > 0) {
        json(response, 200, { name: operationMatch[1], done: false });
        return;
      }
      state.repositories.set(operation.repository.name, operation.repository);
      json(response, 200, {
        name: operationMatch[1],
        done: true,
        response: { '@type': 'type.googleapis.com/google.devtools.artifactregistry.v1.Repository', ...operation.repository },
      });
      return;
    }
    apiError(response, 404, 'NOT_FOUND', `no route for ${request.method} ${path}`);
  };

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', 'http://fake-google');
      try {
        if (url.pathname === '/token' && request.method === 'POST') handleToken(body, response);
        else if (url.pathname.startsWith('/computeMetadata/')) handleMetadata(request, response, url.pathname);
        else if (url.pathname.startsWith('/v1/')) handleApi(request, response, url, body);
        else response.writeHead(404).end();
      } catch (error) {
        json(response, 500, { error: { code: 500, message: String(error), status: 'INTERNAL' } });
      }
    });
  };
  const server: Server = options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  const listen = options.listen ?? { host: '127.0.0.1', port: 0 };
  await new Promise<void>((resolve) => server.listen(listen.port, listen.host, resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(state, {
    url: `${options.tls === undefined ? 'http' : 'https'}://${listen.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return state;
}

/** A Gaxios for google-auth-library that sends oauth2.googleapis.com requests to the fake (see the header). */
export function redirectingTransporter(fake: Pick<FakeGoogle, 'url'>): gaxios.Gaxios {
  const transporter = new gaxios.Gaxios();
  transporter.interceptors.request.add({
    resolved: (options) => {
      const url = new URL(options.url.toString());
      if (url.hostname === googleTokenHost) options.url = new URL(`${url.pathname}${url.search}`, fake.url);
      return Promise.resolve(options);
    },
  });
  return transporter;
}

/** Adds a repository as if created in the console. */
export function addRepository(fake: FakeGoogle, name: string, fields: Partial<StoredRepository> = {}): void {
  fake.repositories.set(name, { name, format: 'DOCKER', mode: 'STANDARD_REPOSITORY', description: '', labels: {}, ...fields });
}

function verifyAssertion(assertion: string, publicKey: KeyObject): Record<string, unknown> | undefined {
  const [header, payload, signature] = assertion.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  if (!verifier.verify(publicKey, Buffer.from(signature, 'base64url'))) return undefined;
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function enumName(value: unknown, names: Record<number, string>): string {
  if (typeof value === 'number') return names[value] ?? String(value);
  return typeof value === 'string' ? value : (names[0] ?? '');
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function apiError(response: ServerResponse, status: number, code: string, message: string): void {
  json(response, status, { error: { code: status, message, status: code } });
}
