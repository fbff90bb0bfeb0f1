import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { parseRepositoryPage } from '../../src/registry/repositories.js';

/**
 * `listRepositories` (sync's glob sources) against a registry that pages its catalog as the distribution spec says
 * (`?n=…&last=…`, `Link: <…>; rel="next"`), asks for a Bearer token with the catalog scope, and then checks it.
 */
describe('RegistryClient.listRepositories', () => {
  const names = Array.from({ length: 7 }, (_, index) => `team/r${index}`);
  const requests: string[] = [];
  const scopes: string[] = [];
  let server: Server;
  let host: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname === '/token') {
        scopes.push(url.searchParams.getAll('scope').join(' '));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'catalog-token', expires_in: 300 }));
        return;
      }
      requests.push(`${url.pathname}${url.search}`);
      if (req.headers.authorization !== 'Bearer catalog-token') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test",scope="registry:catalog:*"` }).end();
        return;
      }
      const n = Number(url.searchParams.get('n') ?? '3');
      const last = url.searchParams.get('last');
      const after = names.filter((name) => last === null || name > last);
      const page = after.slice(0, n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (after.length > n) headers.link = `</v2/_catalog?n=${n}&last=${encodeURIComponent(page.at(-1) ?? '')}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify({ repositories: page }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('follows every Link page with one token scoped to the catalog alone', async () => {
    const client = new RegistryClient();
    expect(await client.listRepositories(host)).toEqual(names);
    await client.close();
    expect(requests.filter((request) => request !== '/v2/_catalog')).toEqual(['/v2/_catalog?n=3&last=team%2Fr2', '/v2/_catalog?n=3&last=team%2Fr5']);
    expect(scopes).toEqual(['registry:catalog:*']);
  });

  it('reads a page strictly', () => {
    expect(parseRepositoryPage('{"repositories":null}', 'x')).toEqual([]);
    expect(() => parseRepositoryPage('{"repositories":[1]}', 'the catalog')).toThrow(/no "repositories" array of strings/);
    expect(() => parseRepositoryPage('<html>', 'the catalog')).toThrow(/not JSON/);
  });
});
