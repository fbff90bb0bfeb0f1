import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, RegistryClient } from '../../src/registry/index.js';
import { pushBlob, pushLargeBlob, pushManifest } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const gib = 1024 * 1024 * 1024;
/** The layer's size in GiB: 1 in npm test; `npm run soak:layer` sets 4 (MIRRORHOOK_LAYER_GIB). */
const layerGib = Number(process.env.MIRRORHOOK_LAYER_GIB ?? 1);
const layerBytes = layerGib * gib;
const timeout = 300_000 * layerGib;

/**
 * Memory stays flat whatever the layer size: `mirrorhook copy` of an image with a 1 GiB layer (4 GiB in the soak)
 * runs in a child process, and the harness reads that process's peak RSS from GNU time (`%M`), not from the
 * process itself.
 */
describe(`copying a ${layerGib} GiB layer`, () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let layerDigest: string;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    const client = new RegistryClient();
    const repo = { domain: source.host, path: 'big/app' };
    const layer = await pushLargeBlob(client, repo, layerBytes);
    layerDigest = layer.digest;
    const config = await pushBlob(client, repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
    await pushManifest(
      client,
      repo,
      'v1',
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      },
      MediaType.ociManifest,
    );
    await client.close();
  }, timeout);
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  /** Peak RSS in MiB of `mirrorhook ARGS` in a child process, as GNU time reports it. */
  async function peakRss(args: readonly string[]): Promise<{ peakMiB: number; stdout: string }> {
    const { stderr, stdout } = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const match = /maxrss_kb=(\d+)/.exec(stderr);
    expect(match, stderr).not.toBeNull();
    return { peakMiB: Number(match![1]) / 1024, stdout };
  }

  it('copies it with peak RSS far below the layer size', { timeout }, async () => {
    // The CLI's own footprint (node, the copy engine and registry client it loads on demand) is measured, not
    // assumed: a dry run loads the same modules and reads the same manifests, but moves no blob.
    const baseline = await peakRss(['copy', '--dry-run', '--no-signatures', `${source.host}/big/app:v1`, `${target.host}/big/app:v1`]);
    const copy = await peakRss(['copy', '--no-signatures', `${source.host}/big/app:v1`, `${target.host}/big/app:v1`]);
    expect(copy.stdout).toContain('1 copied');
    // A layer held in memory would add its size (1024 MiB per GiB); streaming adds buffers and sockets only.
    expect(copy.peakMiB - baseline.peakMiB).toBeLessThan(128);
    const client = new RegistryClient();
    expect(await client.headBlob({ domain: target.host, path: 'big/app' }, layerDigest)).toBe(layerBytes);
    await client.close();
    expect((await skopeoRaw(target, `${target.host}/big/app:v1`)).digest).toBe((await skopeoRaw(source, `${source.host}/big/app:v1`)).digest);
    console.log(`peak RSS with a ${layerGib} GiB layer: ${copy.peakMiB.toFixed(0)} MiB (the CLI alone: ${baseline.peakMiB.toFixed(0)} MiB)`);
  });
});
