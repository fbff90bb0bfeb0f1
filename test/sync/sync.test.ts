import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDomain } from '../../src/mapping/map.js';
import { RegistryClient, type RepositoryRef } from '../../src/registry/index.js';
import { readSyncRecords } from '../../src/sync/record-store.js';
import { runCommand } from '../support/cli.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * `mirrorhook sync` against two real registries (Debian docker-registry on loopback): the issue's scenario, with
 * request counts read from the registries' own access logs.
 */
describe('mirrorhook sync', () => {
  let source: TestRegistry;
  let mirror: TestRegistry;
  let client: RegistryClient;
  let work: string;

  const tiny = { layerSize: 512, platforms: [{ os: 'linux', architecture: 'amd64' }] } as const;
  const app: () => RepositoryRef = () => ({ domain: source.host, path: 'team/app' });
  const mirrored = (path: string): RepositoryRef => ({ domain: mirror.host, path: `mirror/${encodeDomain(source.host)}/${path}` });

  async function writeConfig(name: string, sync: string): Promise<string> {
    const file = join(work, name);
    await writeFile(file, `mirror:\n  registry: ${mirror.host}/mirror\nsync:\n${sync}`);
    return file;
  }

  async function sync(config: string, ...flags: string[]) {
    const result = await runCommand(['sync', '--config', config, '--output', 'json', ...flags]);
    const lines = result.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
    return { ...result, repositories: lines.filter((line) => line.type === 'repository') as unknown as Report[], summary: lines.find((line) => line.type === 'summary') };
  }

  /** The access log is written after the answer: wait until both logs stop growing. */
  async function settledLogs(): Promise<void> {
    let last = -1;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      const now = source.requestCount() + mirror.requestCount();
      if (now === last) return;
      last = now;
    }
  }

  beforeAll(async () => {
    [source, mirror] = await Promise.all([startRegistry({ countRequests: true }), startRegistry({ countRequests: true })]);
    client = new RegistryClient();
    work = await mkdtemp(join(tmpdir(), 'mirrorhook-sync-'));
    for (const tag of ['1.0.0', '1.1.0', '1.2.0-rc.1', '1.2.0', '2.0.0', 'latest']) await pushTestImage(client, app(), tag, tiny);
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([source?.stop(), mirror?.stop()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('semver ">=1.1 <2" mirrors exactly 1.1.0 and 1.2.0, byte for byte; a rerun costs one tag list and a HEAD per tag per side', async () => {
    const config = await writeConfig('semver.yaml', `  - source: ${source.host}/team/app\n    tags: {semver: ">=1.1 <2"}\n`);
    const first = await sync(config);
    expect(first.code, first.stderr).toBe(0);
    expect(first.repositories).toMatchObject([{ source: `${source.host}/team/app`, target: `${mirror.host}/mirror/${encodeDomain(source.host)}/team/app`, matched: 2, copied: 2, current: 0, moved: 0, failed: 0 }]);
    expect(first.repositories[0]?.tags.copied.sort()).toEqual(['1.1.0', '1.2.0']);
    expect((await client.listTags(mirrored('team/app'))).sort()).toEqual(['1.1.0', '1.2.0']);
    for (const tag of ['1.1.0', '1.2.0']) {
      const [upstream, copy] = await Promise.all([client.getManifest(app(), tag), client.getManifest(mirrored('team/app'), tag)]);
      expect(copy.bytes.equals(upstream.bytes)).toBe(true);
      expect(copy.digest).toBe(upstream.digest);
    }

    await settledLogs();
    const [sourceBefore, mirrorBefore] = [source.requestLog().length, mirror.requestLog().length];
    const second = await sync(config);
    expect(second.code).toBe(0);
    expect(second.repositories).toMatchObject([{ matched: 2, current: 2, copied: 0, moved: 0, failed: 0 }]);
    await settledLogs();
    const sourceRequests = source.requestLog().slice(sourceBefore).map(shape).sort();
    // The status record is apart from the sync's own: a clean run only writes it (5 requests; a run with a failure
    // reads the earlier records first, test/sync/status-record.test.ts).
    const mirrorLog = mirror.requestLog().slice(mirrorBefore);
    const mirrorRequests = mirrorLog.filter((line) => !line.includes('/mirrorhook/sync-status/')).map(shape).sort();
    expect(sourceRequests).toEqual(['GET /v2/team/app/tags/list', 'HEAD /v2/team/app/manifests/1.1.0', 'HEAD /v2/team/app/manifests/1.2.0']);
    expect(mirrorRequests).toEqual([`HEAD /v2/${mirrored('team/app').path}/manifests/1.1.0`, `HEAD /v2/${mirrored('team/app').path}/manifests/1.2.0`]);
    expect(mirrorLog.filter((line) => line.includes('/mirrorhook/sync-status/'))).toHaveLength(5);
    expect(second.summary).toMatchObject({ requests: 5 });

    // A new upstream release is copied by the next run alone; the others stay current.
    await pushTestImage(client, app(), '1.2.1', tiny);
    const third = await sync(config);
    expect(third.repositories[0]?.tags).toMatchObject({ copied: ['1.2.1'], moved: [] });
    expect(third.repositories[0]?.tags.current.sort()).toEqual(['1.1.0', '1.2.0']);

    // A tag moved upstream (rebuilt) is re-mirrored.
    const rebuilt = await pushTestImage(client, app(), '1.1.0', tiny);
    const dry = await sync(config, '--dry-run');
    expect(dry.repositories[0]?.tags).toMatchObject({ moved: ['1.1.0'], copied: [] });
    expect((await client.headManifest(mirrored('team/app'), '1.1.0'))?.digest).not.toBe(rebuilt.digest);
    const fourth = await sync(config);
    expect(fourth.repositories[0]?.tags).toMatchObject({ moved: ['1.1.0'], copied: [] });
    expect((await client.headManifest(mirrored('team/app'), '1.1.0'))?.digest).toBe(rebuilt.digest);
  });

  it('regex include/exclude and latest: 2 select as documented', async () => {
    for (const tag of ['v1-alpine', 'v1-debian', 'v2-alpine', 'v2-debian', 'edge']) await pushTestImage(client, { domain: source.host, path: 'team/tools' }, tag, tiny);
    const regex = await writeConfig('regex.yaml', `  - source: ${source.host}/team/tools\n    tags: {regex: {include: "-alpine$", exclude: "^v1"}}\n`);
    const byRegex = await sync(regex);
    expect(byRegex.code, byRegex.stderr).toBe(0);
    expect(byRegex.repositories[0]?.tags.copied).toEqual(['v2-alpine']);

    // latest: 2 by version: the prerelease and `latest` do not count; 2.0.0 and 1.2.1 are the newest two (1.2.1 is
    // in the mirror since the test above).
    const latest = await writeConfig('latest.yaml', `  - source: ${source.host}/team/app\n    tags: {latest: 2}\n`);
    const byVersion = await sync(latest, '--dry-run');
    expect(byVersion.repositories[0]?.tags).toMatchObject({ matched: ['2.0.0', '1.2.1'], current: ['1.2.1'], copied: ['2.0.0'] });

    // No tag is a version: the newest two by the image's creation time.
    const named = { domain: source.host, path: 'team/named' };
    await pushTestImage(client, named, 'old', { ...tiny, created: '2024-01-01T00:00:00Z' });
    await pushTestImage(client, named, 'newest', { ...tiny, created: '2026-06-01T00:00:00Z' });
    await pushTestImage(client, named, 'newer', { ...tiny, created: '2025-06-01T00:00:00Z' });
    const byTime = await writeConfig('created.yaml', `  - source: ${source.host}/team/named\n    tags: {latest: 2}\n`);
    const created = await sync(byTime);
    expect(created.repositories[0]?.tags.copied).toEqual(['newest', 'newer']);
  });

  it('copies signatures with their image unless signatures: false, and keeps only the listed platforms', async () => {
    const signed = await pushTestImage(client, { domain: source.host, path: 'team/signed' }, '1.0.0', { layerSize: 512, signature: true });
    await pushTestImage(client, { domain: source.host, path: 'team/unsigned' }, '1.0.0', { layerSize: 512, signature: true });
    const multi = await pushTestImage(client, { domain: source.host, path: 'team/multi' }, '1.0.0', { layerSize: 512 });
    const config = await writeConfig(
      'signatures.yaml',
      [
        `  - source: ${source.host}/team/signed`,
        `  - source: ${source.host}/team/unsigned`,
        '    signatures: false',
        `  - source: ${source.host}/team/multi`,
        '    platforms: [linux/amd64]',
        '',
      ].join('\n'),
    );
    const first = await sync(config);
    expect(first.code, first.stderr).toBe(0);
    // Cosign tags are never matched as tags of their own, but travel with the image.
    expect(first.repositories.map((report) => report.tags.matched)).toEqual([['1.0.0'], ['1.0.0'], ['1.0.0']]);
    expect((await client.listTags(mirrored('team/signed'))).sort()).toEqual(['1.0.0', signed.signatureTag].sort());
    expect(await client.listTags(mirrored('team/unsigned'))).toEqual(['1.0.0']);
    // One platform kept: the mirror holds that platform's manifest, so its digest differs from the source index.
    const kept = await client.headManifest(mirrored('team/multi'), '1.0.0');
    expect(kept?.digest).not.toBe(multi.digest);
    expect(multi.manifestDigests).toContain(kept?.digest);
    // A rerun compares through the copy engine (the digests differ by design) and finds everything current.
    const second = await sync(config);
    expect(second.summary).toMatchObject({ current: 3, copied: 0, moved: 0, failed: 0 });
  });

  it('exits 1 and names the repository when the mapping does not mirror it or the source is missing', async () => {
    const config = join(work, 'excluded.yaml');
    await writeFile(
      config,
      `mirror:\n  registry: ${mirror.host}/mirror\nsources:\n  exclude: ["${source.host}/team/tools"]\nsync:\n  - source: ${source.host}/team/tools\n  - source: ${source.host}/team/absent\n`,
    );
    const result = await sync(config);
    expect(result.code).toBe(1);
    expect(result.repositories.map((report) => [report.source, report.failures[0]?.code])).toEqual([
      [`${source.host}/team/tools`, 'MH_SYNC_NOT_MAPPED'],
      [`${source.host}/team/absent`, 'MH_REGISTRY_NOT_FOUND'],
    ]);
  });

  it('shards run as separate processes are disjoint and together complete', async () => {
    const names = Array.from({ length: 9 }, (_, index) => `fleet/r${index}`);
    for (const name of names) await pushTestImage(client, { domain: source.host, path: name }, '1.0.0', tiny);
    const config = await writeConfig('fleet.yaml', `  - source: ${source.host}/fleet/*\n`);
    const runs = await Promise.all([0, 1, 2].map((index) => spawnSync(['sync', '--config', config, '--output', 'json'], { JOB_COMPLETION_INDEX: String(index), MIRRORHOOK_SYNC_SHARDS: '3' })));
    const seen: string[] = [];
    const records = await readSyncRecords(client, { domain: mirror.host, path: 'mirror/mirrorhook/sync-status' });
    for (const [index, run] of runs.entries()) {
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; source?: string; copied?: number; shard?: string });
      const mine = lines.filter((entry) => entry.type === 'repository');
      for (const line of mine) {
        expect(line.copied).toBe(1);
        seen.push(line.source ?? '');
      }
      // Each shard wrote its own record (shard-I-of-N), holding exactly its repositories.
      const record = records.find((candidate) => candidate.shard === `shard-${index}-of-3`);
      expect(record?.repositories.map((entry) => entry.source).sort()).toEqual(mine.map((line) => line.source).sort());
    }
    expect(runs.map((run) => JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}').shard)).toEqual(['0/3', '1/3', '2/3']);
    expect(seen.sort()).toEqual(names.map((name) => `${source.host}/${name}`).sort());
    expect(new Set(seen).size).toBe(seen.length);
    // Nothing was left out: the whole set is current for an unsharded run.
    const all = await sync(config);
    expect(all.summary).toMatchObject({ repositories: 9, current: 9, copied: 0, failed: 0 });
  });

  it('refuses bad usage with exit 2', async () => {
    const config = await writeConfig('usage.yaml', `  - source: ${source.host}/team/app\n`);
    expect((await runCommand(['sync', '--config', config, '--shard', '3/3'])).code).toBe(2);
    expect((await runCommand(['sync', '--config', config, 'extra'])).code).toBe(2);
    const halfEnv = await runCommand(['sync', '--config', config], { env: { JOB_COMPLETION_INDEX: '1' } });
    expect(halfEnv.code).toBe(2);
    expect(halfEnv.stderr).toContain('MIRRORHOOK_SYNC_SHARDS');
  });
});

interface Report {
  readonly source: string;
  readonly target: string | null;
  readonly matched: number;
  readonly tags: { readonly matched: string[]; readonly current: string[]; readonly copied: string[]; readonly moved: string[] };
  readonly failures: { readonly tag: string | null; readonly code: string; readonly message: string }[];
}

/** `GET /v2/x/tags/list?n=…` → without the query, which registries add to paginate. */
function shape(line: string): string {
  return line.replace(/\?.*$/, '');
}

function spawnSync(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
