/**
 * Starts real Debian `docker-registry` (CNCF distribution 2.8) instances on loopback for tests and benchmarks.
 *
 *   const registry = await startRegistry({ auth: 'htpasswd', tls: true });
 *   registry.host        // "127.0.0.1:41234": use it in references, e.g. `${registry.host}/library/app:1`
 *   registry.credential  // { username, password } when auth is on (pass it to the RegistryClient's provider)
 *   registry.caFile      // the test CA (PEM) when tls is on; https is used only when a CA file is configured
 *   await registry.stop();
 *
 * Auth modes: `none`, `htpasswd` (Basic, file written with `htpasswd -Bbn`), `token` (Bearer challenge; a small
 * token server runs in this process and signs RS256 JWTs with a throwaway certificate that the registry trusts
 * through `rootcertbundle`). Every registry gets its own storage folder, removed by stop(). A missing binary
 * throws: tests fail loudly rather than skip.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSign, randomBytes, timingSafeEqual } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const registryBinary = process.env.MIRRORHOOK_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface RegistryOptions {
  readonly auth?: RegistryAuth;
  readonly tls?: boolean;
  /** Credentials accepted by htpasswd or the token server (default: a random password for user "tester"). */
  readonly username?: string;
  readonly password?: string;
  /** Token mode: lifetime of issued tokens in seconds (default 300). */
  readonly tokenLifetimeSeconds?: number;
  /** Token mode: grant `pull` to anonymous requests (default false: anonymous gets no access). */
  readonly anonymousPull?: boolean;
  /** Turn the access log on and count `/v2/` requests (for benchmarks comparing clients). */
  readonly countRequests?: boolean;
  /** Accept manifests with foreign (non-distributable) layers that carry `urls` (distribution refuses them by default). */
  readonly allowForeignLayers?: boolean;
  /** `address:port` to listen on (default 127.0.0.1 and an ephemeral port): fixed ports for the docs sandbox. */
  readonly listen?: string;
  /** TLS: host names the serving certificate holds besides the listen address and localhost. */
  readonly serverNames?: readonly string[];
  /** TLS: sign the serving certificate with this CA (PEM files) instead of a fresh one. */
  readonly ca?: { readonly certFile: string; readonly keyFile: string };
}

export interface TestRegistry {
  /** host:port: 127.0.0.1 and an ephemeral port unless `listen` was given. */
  readonly host: string;
  /** Base URL (http:// or https://). */
  readonly url: string;
  readonly auth: RegistryAuth;
  readonly tls: boolean;
  readonly credential: { readonly username: string; readonly password: string } | undefined;
  /** PEM file of the CA that signed the registry's serving certificate (tls only). */
  readonly caFile: string | undefined;
  /** Storage root of the registry (filesystem driver). */
  readonly storageDir: string;
  /** Token mode: every request the token server answered, for assertions about token caching. */
  readonly tokenRequests: readonly TokenRequest[];
  /** With `countRequests`: `/v2/` requests the registry has logged so far. */
  requestCount(): number;
  /** With `countRequests`: those requests as `METHOD /v2/path?query`, in the order the access log wrote them. */
  requestLog(): readonly string[];
  stop(): Promise<void>;
}

export interface TokenRequest {
  readonly user: string | undefined;
  readonly scopes: readonly string[];
}

/** Starts one registry; resolves once `GET /v2/` answers. */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  const tls = options.tls ?? false;
  const workDir = await mkdtemp(join(tmpdir(), 'mirrorhook-registry-'));
  const storageDir = join(workDir, 'storage');
  const credential =
    auth === 'none'
      ? undefined
      : { username: options.username ?? 'tester', password: options.password ?? randomBytes(9).toString('base64url') };
  const host = options.listen ?? `127.0.0.1:${await freePort()}`;
  const port = Number(host.slice(host.lastIndexOf(':') + 1));
  const url = `${tls ? 'https' : 'http'}://${host}`;

  const lines: string[] = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    `    disabled: ${options.countRequests ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];

  let caFile: string | undefined;
  if (tls) {
    caFile = options.ca?.certFile ?? join(workDir, 'ca.pem');
    const pki = await makeServingCertificate(workDir, host.slice(0, host.lastIndexOf(':')), options.serverNames ?? [], options.ca);
    lines.push('  tls:', `    certificate: ${pki.certFile}`, `    key: ${pki.keyFile}`);
  }

  let tokenServer: TokenServer | undefined;
  if (auth === 'htpasswd' && credential) {
    const htpasswdFile = join(workDir, 'htpasswd');
    const { stdout } = await run('htpasswd', ['-Bbn', credential.username, credential.password]);
    await writeFile(htpasswdFile, stdout.trim() + '\n');
    lines.push('auth:', '  htpasswd:', '    realm: mirrorhook-test', `    path: ${htpasswdFile}`);
  } else if (auth === 'token' && credential) {
    tokenServer = await startTokenServer(workDir, {
      credential,
      service: `registry-${port}`,
      lifetime: options.tokenLifetimeSeconds ?? 300,
      anonymousPull: options.anonymousPull ?? false,
    });
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${tokenServer.realm}`,
      `    service: registry-${port}`,
      `    issuer: ${tokenIssuer}`,
      `    rootcertbundle: ${tokenServer.certFile}`,
    );
  }

  if (options.allowForeignLayers) {
    lines.push('validation:', '  manifests:', '    urls:', '      allow:', "        - '^https?://'");
  }
  const configFile = join(workDir, 'config.yml');
  await writeFile(configFile, lines.join('\n') + '\n');

  const child = spawn(registryBinary, ['serve', configFile], { stdio: ['ignore', options.countRequests ? 'pipe' : 'ignore', 'pipe'] });
  let requests = 0;
  const log: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const request = /"([A-Z]+) (\/v2\/\S*)/.exec(line);
      if (request === null) continue;
      requests++;
      log.push(`${request[1]} ${request[2]}`);
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (error) => {
    stderr += `\n${error.message}`;
  });

  try {
    await waitUntilUp(url, caFile, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await tokenServer?.close();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  return {
    host,
    url,
    auth,
    tls,
    credential,
    caFile,
    storageDir,
    tokenRequests: tokenServer?.requests ?? [],
    requestCount: () => requests,
    requestLog: () => [...log],
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await tokenServer?.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** An ephemeral loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilUp(url: string, caFile: string | undefined, child: ChildProcess, log: () => string): Promise<void> {
  const { Agent, request } = await import('undici');
  const ca = caFile === undefined ? undefined : await readFile(caFile, 'utf8');
  const dispatcher = new Agent({ connect: ca === undefined ? {} : { ca } });
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (child.exitCode !== null) {
        throw new Error(`${registryBinary} exited with ${child.exitCode}: ${log()}`);
      }
      try {
        const response = await request(`${url}/v2/`, { dispatcher });
        await response.body.dump();
        if (response.statusCode === 200 || response.statusCode === 401) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`${registryBinary} did not answer on ${url} within 10 s: ${log()}`);
  } finally {
    await dispatcher.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', [...args]);
}

/** A CA (ca.pem, unless one is given) and a serving certificate for the address, localhost and `names` signed by it. */
export async function makeServingCertificate(
  dir: string,
  address: string,
  names: readonly string[],
  ca?: { readonly certFile: string; readonly keyFile: string },
): Promise<{ certFile: string; keyFile: string }> {
  const caKey = ca?.keyFile ?? join(dir, 'ca.key');
  const caCert = ca?.certFile ?? join(dir, 'ca.pem');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  if (ca === undefined) await makeCertificateAuthority(caCert, caKey);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0] ?? address}`]);
  const altNames = [`IP:${address}`, 'DNS:localhost', ...names.map((name) => `DNS:${name}`)];
  await writeFile(ext, `subjectAltName=${altNames.join(',')}\nextendedKeyUsage=serverAuth\n`);
  await openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  // skopeo and containers/image read a folder of *.crt files (--cert-dir).
  await mkdir(join(dir, 'skopeo-certs'));
  await copyFile(caCert, join(dir, 'skopeo-certs', 'ca.crt'));
  return { certFile: cert, keyFile: key };
}

/** A self-signed CA certificate and key (PEM files) for test servers. */
export async function makeCertificateAuthority(certFile: string, keyFile: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=mirrorhook test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

const tokenIssuer = 'mirrorhook-test-token-server';

interface TokenServer {
  readonly realm: string;
  readonly certFile: string;
  readonly requests: TokenRequest[];
  close(): Promise<void>;
}

interface TokenServerOptions {
  readonly credential: { readonly username: string; readonly password: string };
  readonly service: string;
  readonly lifetime: number;
  readonly anonymousPull: boolean;
}

/**
 * The Docker token protocol, just enough for distribution: GET /token?service=&scope=… with optional Basic auth;
 * answers {token, access_token, expires_in, issued_at}. The JWT carries the signing certificate in `x5c`, which
 * distribution verifies against `rootcertbundle`.
 */
async function startTokenServer(dir: string, options: TokenServerOptions): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.pem');
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=mirrorhook test token signer']);
  const key = await readFile(keyFile, 'utf8');
  const certDer = (await readFile(certFile, 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const requests: TokenRequest[] = [];

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const user = authenticate(req.headers.authorization, options.credential);
    if (user === false) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).filter((scope) => scope !== '');
    requests.push({ user, scopes });
    const access = scopes.flatMap((scope) => {
      const parts = scope.split(':');
      if (parts.length < 3) return [];
      const type = parts[0] ?? '';
      const actions = (parts[parts.length - 1] ?? '').split(',').filter((action) => action !== '');
      const name = parts.slice(1, -1).join(':');
      const granted = user === undefined ? (options.anonymousPull ? actions.filter((action) => action === 'pull') : []) : actions;
      return [{ type, name, actions: granted }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
    const claims = {
      iss: tokenIssuer,
      sub: user ?? '',
      aud: options.service,
      exp: now + options.lifetime,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(key).toString('base64url');
    const token = `${signingInput}.${signature}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ token, access_token: token, expires_in: options.lifetime, issued_at: new Date(now * 1000).toISOString() }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certFile,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** undefined for anonymous, the user name when the Basic credentials match, false when they do not. */
function authenticate(
  header: string | undefined,
  credential: { readonly username: string; readonly password: string },
): string | undefined | false {
  if (header === undefined) return undefined;
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const expected = Buffer.from(`${credential.username}:${credential.password}`);
  const given = Buffer.from(decoded);
  return given.length === expected.length && timingSafeEqual(given, expected) ? credential.username : false;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
