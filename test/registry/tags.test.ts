import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMirrorhookError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/index.js';
import { nextPageUrl, parseTagPage } from '../../src/registry/tags.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * distribution 2.8 (the Debian docker-registry) ignores `?n=` on tags/list and answers everything at once. Registries
 * that paginate serve sorted pages of `n` linked by `Link: <…?last=X&n=N>; rel="next"`, as the distribution spec
 * says: this proxy does that over the real registry's answer, and counts the pages it served.
 */
async function startPaginatingProxy(upstream: string): Promise<{ host: string; pages: string[]; stop(): Promise<void> }> {
  const pages: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const answer = await fetch(`http://${upstream}${url.pathname}`);
      const body = (await answer.json()) as { name: string; tags: string[] | null };
      if (!url.pathname.endsWith('/tags/list') || answer.status !== 200) {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      pages.push(url.search);
      const n = Number(url.searchParams.get('n') ?? '1000');
      const last = url.searchParams.get('last');
      const after = (body.tags ?? []).sort().filter((tag) => last === null || tag > last);
      const page = after.slice(0, n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (after.length > n) headers.link = `<${url.pathname}?last=${encodeURIComponent(page.at(-1) ?? '')}&n=${n}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify({ name: body.name, tags: page }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    pages,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('RegistryClient.listTags against a real registry', () => {
  let registry: TestRegistry;
  let proxy: Awaited<ReturnType<typeof startPaginatingProxy>>;
  const tags = ['1.0', '1.1', '2.0', 'latest', 'v3'];

  beforeAll(async () => {
    registry = await startRegistry();
    const client = new RegistryClient();
    const repo = { domain: registry.host, path: 'team/app' };
    const image = await pushTestImage(client, repo, tags[0]!, { platforms: [{ os: 'linux', architecture: 'amd64' }], layerSize: 1024 });
    const manifest = await client.getManifest(repo, image.digest);
    for (const tag of tags.slice(1)) await client.putManifest(repo, tag, manifest.bytes, manifest.mediaType);
    await client.close();
    proxy = await startPaginatingProxy(registry.host);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('reads every page the registry links to with rel="next"', async () => {
    const client = new RegistryClient();
    const listed = await client.listTags({ domain: proxy.host, path: 'team/app' }, { pageSize: 2 });
    await client.close();
    expect(listed).toEqual(tags);
    expect(proxy.pages).toEqual(['?n=2', '?last=1.1&n=2', '?last=latest&n=2']);
  });

  it('reads the whole list in one page when the registry does not split it', async () => {
    const client = new RegistryClient();
    // distribution 2.8 serves tags in storage order, not sorted: the set matters, each tag once.
    expect((await client.listTags({ domain: registry.host, path: 'team/app' })).sort()).toEqual(tags);
    await client.close();
  });

  it('says the repository does not exist (MH_REGISTRY_NOT_FOUND)', async () => {
    const client = new RegistryClient();
    const caught = await client.listTags({ domain: registry.host, path: 'team/absent' }).catch((error: unknown) => error);
    await client.close();
    expect(isMirrorhookError(caught, 'MH_REGISTRY_NOT_FOUND')).toBe(true);
    expect((caught as Error).message).toMatch(/GET tags of 127\.0\.0\.1:\d+\/team\/absent: HTTP 404 NAME_UNKNOWN/);
  });
});

describe('tag list pages', () => {
  const page = 'https://registry.example/v2/team/app/tags/list?n=2';

  it('finds rel="next" among several links and resolves it against the page', () => {
    expect(nextPageUrl('</v2/team/app/tags/list?last=b&n=2>; rel="next"', page, 'tags')).toBe('https://registry.example/v2/team/app/tags/list?last=b&n=2');
    expect(nextPageUrl('<https://registry.example/first>; rel="first", <?last=d&n=2>; rel=next', page, 'tags')).toBe(
      'https://registry.example/v2/team/app/tags/list?last=d&n=2',
    );
    expect(nextPageUrl('</v2/x>; rel="prev"', page, 'tags')).toBeUndefined();
    expect(nextPageUrl(undefined, page, 'tags')).toBeUndefined();
  });

  it('refuses a next page on another host (our credentials would follow it)', () => {
    expect(() => nextPageUrl('<https://elsewhere.example/v2/team/app/tags/list?last=b>; rel="next"', page, 'tags')).toThrow(/another host \(https:\/\/elsewhere\.example\)/);
  });

  it('reads a page, an empty repository (tags: null), and refuses what is not a tag list', () => {
    expect(parseTagPage('{"name":"team/app","tags":["a","b"]}', 'tags')).toEqual(['a', 'b']);
    expect(parseTagPage('{"name":"team/app","tags":null}', 'tags')).toEqual([]);
    expect(() => parseTagPage('<html>', 'tags')).toThrow(/not JSON/);
    expect(() => parseTagPage('{"tags":[1]}', 'tags')).toThrow(/no "tags" array of strings/);
  });
});
