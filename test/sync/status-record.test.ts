import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateSet } from '../../src/certs/index.js';
import { loadConfig } from '../../src/config/load.js';
import { RegistryClient } from '../../src/registry/index.js';
import { serve } from '../../src/server/listen.js';
import type { Status } from '../../src/status/model.js';
import { readSyncRecords } from '../../src/sync/record-store.js';
import type { SyncStatusView } from '../../src/sync/record.js';
import { runCommand } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * The sync status record against two real registries (Debian docker-registry 2.8 on loopback): two runs, the
 * second with one repository gone upstream; the record in the mirror, `report -o json` and a running webhook's
 * /status.json all say the failed repository last succeeded at the first run and the others at the second.
 */
describe('sync status record in the mirror', () => {
  let source: TestRegistry;
  let mirror: TestRegistry;
  let client: RegistryClient;
  let work: string;
  let config: string;
  const tiny = { layerSize: 512, platforms: [{ os: 'linux', architecture: 'amd64' }] } as const;
  const statusRepo = (): { domain: string; path: string } => ({ domain: mirror.host, path: 'mirror/mirrorhook/sync-status' });
  const sync = async (...flags: string[]) => {
    const result = await runCommand(['sync', '--config', config, '--output', 'json', ...flags]);
    return { ...result, summary: JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { requests: number } };
  };
  const bySource = async () => new Map((await readSyncRecords(client, statusRepo())).flatMap((record) => record.repositories.map((entry) => [entry.source.split('/').slice(1).join('/'), entry] as const)));

  beforeAll(async () => {
    [source, mirror] = await Promise.all([startRegistry(), startRegistry({ countRequests: true })]);
    client = new RegistryClient();
    work = await mkdtemp(join(tmpdir(), 'mirrorhook-sync-record-'));
    for (const path of ['team/app', 'team/tools', 'team/broken']) await pushTestImage(client, { domain: source.host, path }, '1.0.0', tiny);
    config = join(work, 'mirrorhook.yaml');
    await writeFile(config, `mirror:\n  registry: ${mirror.host}/mirror\nsync:\n${['team/app', 'team/tools', 'team/broken'].map((path) => `  - source: ${source.host}/${path}\n`).join('')}`);
    await writeFile(join(work, 'pod.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: "${source.host}/team/app:1.0.0"}\n`);
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([source?.stop(), mirror?.stop()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('--dry-run and --no-record write no record', async () => {
    expect((await sync('--dry-run')).code).toBe(0);
    expect((await sync('--no-record')).code).toBe(0);
    await expect(client.listTags(statusRepo())).rejects.toMatchObject({ code: 'MH_REGISTRY_NOT_FOUND' });
  });

  it('keeps lastSuccess of a repository that fails in the next run and moves it for the others', async () => {
    const first = await sync();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    const afterFirst = await bySource();
    expect([...afterFirst.keys()].sort()).toEqual(['team/app', 'team/broken', 'team/tools']);
    const firstRun = afterFirst.get('team/app')?.lastAttempt;
    for (const entry of afterFirst.values()) expect(entry).toMatchObject({ lastAttempt: firstRun, lastSuccess: firstRun, lastError: null, counts: { matched: 1, failed: 0 } });

    // The manifest distribution 2.8 stored: an OCI image manifest with the artifactType, the empty config, one layer.
    const manifest = await client.getManifest(statusRepo(), 'all');
    const body = JSON.parse(manifest.bytes.toString('utf8')) as Record<string, unknown>;
    expect(body).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.mirrorhook.sync-status.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2 },
      layers: [{ mediaType: 'application/vnd.mirrorhook.sync-status.v1+json' }],
    });

    // team/broken disappears upstream; the next run fails on it alone.
    await rm(join(source.storageDir, 'docker/registry/v2/repositories/team/broken'), { recursive: true });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = mirror.requestLog().length;
    const second = await sync();
    expect(second.code).toBe(1);
    expect(second.stderr).toBe('');

    // What the record costs the mirror on a run with one earlier record: read it (3), write it through the transfer
    // engine (5: a HEAD per blob, the one new blob uploaded, the manifest).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const recordRequests = mirror
      .requestLog()
      .slice(before)
      .filter((line) => line.includes('/mirrorhook/sync-status/'))
      .map((line) => line.replace(/sha256:[0-9a-f]{64}/, 'DIGEST').replace(/uploads\/[^?\s]+/, 'uploads/ID').replace(/\?.*$/, ''))
      .sort();
    expect(recordRequests).toEqual(
      [
        'GET /v2/mirror/mirrorhook/sync-status/tags/list',
        'GET /v2/mirror/mirrorhook/sync-status/manifests/all',
        'GET /v2/mirror/mirrorhook/sync-status/blobs/DIGEST',
        'HEAD /v2/mirror/mirrorhook/sync-status/blobs/DIGEST',
        'HEAD /v2/mirror/mirrorhook/sync-status/blobs/DIGEST',
        'POST /v2/mirror/mirrorhook/sync-status/blobs/uploads/',
        'PUT /v2/mirror/mirrorhook/sync-status/blobs/uploads/ID',
        'PUT /v2/mirror/mirrorhook/sync-status/manifests/all',
      ].sort(),
    );

    const afterSecond = await bySource();
    const secondRun = afterSecond.get('team/app')?.lastAttempt;
    expect(Date.parse(secondRun ?? '')).toBeGreaterThan(Date.parse(firstRun ?? ''));
    expect(afterSecond.get('team/app')).toMatchObject({ lastSuccess: secondRun, counts: { current: 1, failed: 0 } });
    expect(afterSecond.get('team/tools')).toMatchObject({ lastSuccess: secondRun });
    expect(afterSecond.get('team/broken')).toMatchObject({ lastAttempt: secondRun, lastSuccess: firstRun, counts: { failed: 1 }, lastError: { code: 'MH_REGISTRY_NOT_FOUND' } });

    // report -o json: the same under `sync`.
    const report = await runCommand(['report', '--config', config, '-o', 'json', join(work, 'pod.yaml')]);
    expect(report.code, report.stderr).toBe(0);
    const view = (JSON.parse(report.stdout) as { sync: SyncStatusView }).sync;
    expect(view).toMatchObject({ checked: true, error: null, repository: `${mirror.host}/mirror/mirrorhook/sync-status`, staleAfterHours: 48, stale: 0, records: [{ shard: 'all', repositories: 3 }] });
    expect(view.repositories.find((row) => row.source.endsWith('/team/broken'))).toMatchObject({ lastSuccess: firstRun, lastAttempt: secondRun, stale: false, counts: { failed: 1 } });
    expect(view.repositories.find((row) => row.source.endsWith('/team/app'))).toMatchObject({ lastSuccess: secondRun, stale: false });
    const offline = await runCommand(['report', '--config', config, '--offline', '-o', 'json', join(work, 'pod.yaml')]);
    expect((JSON.parse(offline.stdout) as { sync: SyncStatusView }).sync).toMatchObject({ checked: false, repositories: [] });

    // A webhook that neither asks the mirror nor copies (swap: always, copy: none) reads the records for /status.json.
    const { config: loaded } = await loadConfig(config);
    const set = generateCertificateSet({ service: 'mirrorhook', namespace: 'test', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server = await serve({ config: loaded, host: '127.0.0.1', port: 0, tls: { pair: set.serving }, logger: false, env: {} });
    try {
      const status = JSON.parse(await get(`${server.url}/status.json`, set.ca.cert)) as Status;
      expect(status.sync).toMatchObject({ enabled: true, checked: true, error: null, stale: 0 });
      const rows = status.sync.enabled ? status.sync.repositories : [];
      expect(rows.map((row) => [row.source.split('/').slice(1).join('/'), row.lastSuccess, row.counts.failed])).toEqual([
        ['team/app', secondRun, 0],
        ['team/broken', firstRun, 1],
        ['team/tools', secondRun, 0],
      ]);
      const page = await get(`${server.url}/status`, set.ca.cert);
      expect(page).toContain('Kept current by sync');
      expect(page).toContain('MH_REGISTRY_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  it('a record the mirror refuses is a warning: the sync itself stands', async () => {
    const proxy = await startFaultProxy(mirror.host, (request) =>
      request.method === 'PUT' && request.path.includes('/mirrorhook/sync-status/manifests/') ? { status: 403, headers: { 'content-type': 'application/json' } } : undefined,
    );
    try {
      const proxied = join(work, 'proxied.yaml');
      await writeFile(proxied, `mirror:\n  registry: ${proxy.host}/mirror\nsync:\n  - source: ${source.host}/team/app\n`);
      const result = await runCommand(['sync', '--config', proxied]);
      expect(result.code, result.stdout).toBe(0);
      expect(result.stderr).toMatch(/^warning: MH_SYNC_RECORD: the sync status record in the mirror cannot be read or written: 127\.0\.0\.1:\d+\/mirror\/mirrorhook\/sync-status:all: MH_REGISTRY_/m);
    } finally {
      await proxy.stop();
    }
  });
});

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}
