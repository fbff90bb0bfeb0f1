/**
 * The copy engine's second line of retries decides on the registry's HTTP status and our error code, never on the
 * message text: a 503 is tried again, a 404 or a 401 is not. A real HTTP server answers; the transport is told to
 * send once, so every attempt counted here is the copy retry's.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isTransient, retryTransient } from '../../src/copy/retry.js';
import { MirrorhookError } from '../../src/errors.js';
import { RegistryClient, RegistryError } from '../../src/registry/index.js';

const content = Buffer.from('abc');
const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;

/** A registry that answers each request to the blob with the next status of `statuses` (the last one repeats). */
async function scriptedRegistry(statuses: readonly number[]): Promise<{ server: Server; host: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    if (request.url === '/v2/') {
      response.writeHead(200).end();
      return;
    }
    const status = statuses[Math.min(hits, statuses.length - 1)] ?? 500;
    hits++;
    if (status === 200) {
      response.writeHead(200, { 'content-length': String(content.length) }).end(content);
      return;
    }
    const body = JSON.stringify({ errors: [{ code: status === 404 ? 'BLOB_UNKNOWN' : status === 401 ? 'UNAUTHORIZED' : 'UNAVAILABLE', message: 'scripted' }] });
    // A 401 without a challenge cannot be answered with credentials: the client reports it at once.
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

describe('copy retries by status and code', () => {
  const servers: Server[] = [];
  const clients: RegistryClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  const getWith = async (statuses: readonly number[]) => {
    const registry = await scriptedRegistry(statuses);
    servers.push(registry.server);
    const client = new RegistryClient({ retry: { attempts: 1 } });
    clients.push(client);
    const repo = { domain: registry.host, path: 'team/app' };
    const outcome = retryTransient(() => client.getBlob(repo, digest), { sleep: async () => undefined, attempts: 4 }).then(
      (bytes) => ({ text: bytes.toString(), error: undefined }),
      (error: unknown) => ({ text: undefined, error }),
    );
    return { ...(await outcome), hits: registry.hits() };
  };

  it('tries a 503 again and succeeds', async () => {
    const result = await getWith([503, 503, 200]);
    expect(result).toMatchObject({ text: 'abc', error: undefined, hits: 3 });
  });

  it('gives up on a 503 that persists, with its status and the registry codes on the error', async () => {
    const result = await getWith([503]);
    expect(result.hits).toBe(4);
    expect(result.error).toBeInstanceOf(RegistryError);
    expect(result.error).toMatchObject({ code: 'MH_REGISTRY_HTTP', status: 503, registryCodes: ['UNAVAILABLE'] });
  });

  it('does not try a 404 again', async () => {
    const result = await getWith([404, 200]);
    expect(result.hits).toBe(1);
    expect(result.error).toMatchObject({ code: 'MH_REGISTRY_NOT_FOUND', status: 404, registryCodes: ['BLOB_UNKNOWN'] });
  });

  it('does not try a 401 again', async () => {
    const result = await getWith([401, 200]);
    expect(result.hits).toBe(1);
    expect(result.error).toMatchObject({ code: 'MH_REGISTRY_UNAUTHORIZED', status: 401, registryCodes: ['UNAUTHORIZED'] });
  });

  it('decides on the status, whatever the message says', () => {
    expect(isTransient(new RegistryError('MH_REGISTRY_HTTP', 502, [], 'bad gateway, no number in this text'))).toBe(true);
    expect(isTransient(new RegistryError('MH_REGISTRY_HTTP', 400, ['MANIFEST_INVALID'], 'PUT manifest: HTTP 500 looks like a 5xx but is a 400'))).toBe(false);
    expect(isTransient(new MirrorhookError('MH_REGISTRY_HTTP', 'GET x: HTTP 503 in the text of an error without a status'))).toBe(false);
    expect(isTransient(new MirrorhookError('MH_REGISTRY_UNREACHABLE', 'connection refused'))).toBe(true);
    expect(isTransient(new MirrorhookError('MH_REGISTRY_CIRCUIT_OPEN', 'resting'))).toBe(false);
  });
});
