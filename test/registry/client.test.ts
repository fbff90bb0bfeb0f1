import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, sha256Digest, staticProvider } from '../../src/registry/index.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

const noWait = { sleep: () => Promise.resolve() };

describe('RegistryClient against real registries', () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  let tls: TestRegistry;

  beforeAll(async () => {
    [basic, token, tls] = await Promise.all([
      startRegistry({ auth: 'htpasswd' }),
      startRegistry({ auth: 'token', tokenLifetimeSeconds: 60 }),
      startRegistry({ tls: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([basic?.stop(), token?.stop(), tls?.stop()]);
  });

  it('says whether credentials are missing or wrong', async () => {
    const repo = { domain: basic.host, path: 'a/b' };
    const anonymous = new RegistryClient(noWait);
    await expect(anonymous.headManifest(repo, 'v1')).rejects.toThrow(/no credentials for 127\.0\.0\.1:\d+: it needs some/);
    await anonymous.close();
    const wrong = new RegistryClient({ ...noWait, credentials: staticProvider({ [basic.host]: { kind: 'basic', username: 'tester', password: 'wrong' } }) });
    await expect(wrong.headManifest(repo, 'v1')).rejects.toMatchObject({ code: 'MH_REGISTRY_UNAUTHORIZED', message: expect.stringContaining('rejected the credentials') as unknown });
    await wrong.close();
    const right = new RegistryClient({ ...noWait, credentials: staticProvider({ [basic.host]: { kind: 'basic', ...basic.credential! } }) });
    expect(await right.headManifest(repo, 'v1')).toBeUndefined();
    await right.close();
  });

  it('caches Bearer tokens per scope until they expire', async () => {
    let now = Date.now();
    const client = new RegistryClient({ ...noWait, now: () => now, credentials: staticProvider({ [token.host]: { kind: 'basic', ...token.credential! } }) });
    const repo = { domain: token.host, path: 'cache/app' };
    // Declaring the push up front gets one pull+push token instead of a pull token and then a push token.
    client.willPush(repo);
    await pushTestImage(client, repo, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const afterPush = token.tokenRequests.length;
    expect(afterPush).toBe(1);
    await client.headManifest(repo, 'v1');
    await client.headManifest({ domain: token.host, path: 'cache/other' }, 'v1');
    expect(token.tokenRequests.length).toBe(2);
    now += 55_000; // past the lifetime minus the safety margin
    await client.headManifest(repo, 'v1');
    expect(token.tokenRequests.length).toBe(3);
    await client.close();
  });

  it('reads, verifies and writes manifests byte for byte over TLS with a private CA', async () => {
    const client = new RegistryClient({ ...noWait, hostOptions: () => ({ ca: readFileSync(tls.caFile!, 'utf8') }) });
    const repo = { domain: tls.host, path: 'tls/app' };
    const image = await pushTestImage(client, repo, 'v1');
    const manifest = await client.getManifest(repo, 'v1');
    expect(manifest.digest).toBe(image.digest);
    expect(sha256Digest(manifest.bytes)).toBe(image.digest);
    expect(await client.headManifest(repo, image.digest)).toMatchObject({ digest: image.digest });
    await client.close();
    const withoutCa = new RegistryClient({ ...noWait, retry: { attempts: 1 }, hostOptions: () => ({ insecure: false, ca: '' }) });
    await expect(withoutCa.headManifest(repo, 'v1')).rejects.toMatchObject({ code: 'MH_REGISTRY_UNREACHABLE' });
    await withoutCa.close();
  });
});

describe('RegistryClient request economy', () => {
  let plain: TestRegistry;
  beforeAll(async () => {
    plain = await startRegistry();
  });
  afterAll(async () => {
    await plain?.stop();
  });

  it('uploads a blob in HEAD + POST + PUT once the host is known to need no auth', async () => {
    const client = new RegistryClient(noWait);
    const repo = { domain: plain.host, path: 'economy/app' };
    const { pushBlob } = await import('../support/images.js');
    await pushBlob(client, repo, Buffer.from('first blob'));
    const afterFirst = client.requestCount;
    await pushBlob(client, repo, Buffer.from('second blob'));
    expect(client.requestCount - afterFirst).toBe(3);
    await client.close();
  });
});

/** A scripted registry for the protocol corners a real distribution registry does not show on demand. */
async function fakeServer(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('RegistryClient protocol corners', () => {
  it('adds the scope a registry asks for on insufficient_scope', async () => {
    const tokenScopes: string[][] = [];
    const server = await fakeServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        const scopes = url.searchParams.getAll('scope');
        tokenScopes.push(scopes);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: scopes.join('|'), expires_in: 300 }));
        return;
      }
      const auth = req.headers.authorization ?? '';
      if (!auth.includes('repository:extra:pull')) {
        res
          .writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake",scope="repository:extra:pull",error="insufficient_scope"` })
          .end();
        return;
      }
      res.writeHead(404).end();
    });
    const client = new RegistryClient(noWait);
    expect(await client.headBlob({ domain: server.host, path: 'a/b' }, `sha256:${'0'.repeat(64)}`)).toBeUndefined();
    expect(tokenScopes).toEqual([['repository:a/b:pull', 'repository:extra:pull']]);
    await client.close();
    await server.close();
  });

  it('never sends Authorization to the host a redirect points to', async () => {
    const seen: (string | undefined)[] = [];
    const storage = await fakeServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': '5' }).end('hello');
    });
    const registry = await fakeServer((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
        return;
      }
      seen.push(req.headers.authorization);
      res.writeHead(307, { location: `http://${storage.host}/blob?X-Signature=secret` }).end();
    });
    const client = new RegistryClient({ ...noWait, credentials: staticProvider({ [registry.host]: { kind: 'basic', username: 'u', password: 'p' } }) });
    const bytes = await client.getBlob({ domain: registry.host, path: 'a/b' }, sha256Digest(Buffer.from('hello')), 5);
    expect(bytes.toString()).toBe('hello');
    expect(seen).toEqual([`Basic ${Buffer.from('u:p').toString('base64')}`, undefined]);
    await client.close();
    await Promise.all([storage.close(), registry.close()]);
  });

  it('refuses to wait for a long Retry-After, and opens the circuit after repeated failures', async () => {
    let mode: 'slow' | 'down' = 'slow';
    let requests = 0;
    const server = await fakeServer((_req, res) => {
      requests++;
      if (mode === 'slow') res.writeHead(429, { 'retry-after': '3600' }).end();
      else res.writeHead(503).end();
    });
    const delays: number[] = [];
    const client = new RegistryClient({
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
      retry: { attempts: 3 },
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
    });
    const repo = { domain: server.host, path: 'a/b' };
    await expect(client.headManifest(repo, 'v1')).rejects.toMatchObject({ code: 'MH_REGISTRY_RATE_LIMITED' });
    expect(delays).toEqual([]);
    mode = 'down';
    await expect(client.headManifest(repo, 'v1')).rejects.toMatchObject({ code: 'MH_REGISTRY_HTTP' });
    expect(delays).toHaveLength(2);
    const before = requests;
    await expect(client.headManifest(repo, 'v1')).rejects.toMatchObject({ code: 'MH_REGISTRY_CIRCUIT_OPEN' });
    expect(requests).toBe(before);
    await client.close();
    await server.close();
  });

  it('stops pulling manifests when RateLimit-Remaining reaches 0, but still answers HEADs', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    let gets = 0;
    const server = await fakeServer((req, res) => {
      const headers = { 'content-type': 'application/vnd.oci.image.index.v1+json', 'docker-content-digest': sha256Digest(manifest), 'ratelimit-remaining': '0;w=21600' };
      if (req.method === 'GET') gets++;
      res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : manifest);
    });
    const client = new RegistryClient(noWait);
    const repo = { domain: server.host, path: 'library/nginx' };
    expect((await client.headManifest(repo, 'latest'))?.digest).toBe(sha256Digest(manifest));
    await expect(client.getManifest(repo, 'latest')).rejects.toThrow(/reports no pulls left in its 6 h window/);
    expect(gets).toBe(0);
    await client.close();
    await server.close();
  });

  it('rejects a manifest whose bytes do not match the digest asked for or served', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const server = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'docker-content-digest': `sha256:${'f'.repeat(64)}` }).end(manifest);
    });
    const client = new RegistryClient(noWait);
    const repo = { domain: server.host, path: 'a/b' };
    await expect(client.getManifest(repo, 'v1')).rejects.toMatchObject({ code: 'MH_REGISTRY_DIGEST_MISMATCH' });
    await expect(client.getManifest(repo, `sha256:${'e'.repeat(64)}`)).rejects.toMatchObject({ code: 'MH_REGISTRY_DIGEST_MISMATCH' });
    await client.close();
    await server.close();
  });
});
