import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const mib = 1024 * 1024;
const layerBytes = 512 * mib;

/**
 * Memory stays flat whatever the archive size: `mirrorhook push` of a 512 MiB OCI tar runs in a child process,
 * and GNU time (`%M`) reports its peak RSS. An archive or a layer held in memory would add at least 512 MiB.
 */
describe('pushing a 512 MiB archive', () => {
  let registry: TestRegistry;
  let dir: string;
  let archive: string;
  let manifestDigest: string;

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-push-memory-'));
    const layout = join(dir, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const writeBlob = async (write: (append: (bytes: Buffer) => Promise<void>) => Promise<void>) => {
      const incoming = join(blobs, 'incoming');
      const handle = await open(incoming, 'w');
      const hash = createHash('sha256');
      let size = 0;
      await write(async (bytes) => {
        hash.update(bytes);
        size += bytes.length;
        await handle.write(bytes);
      });
      await handle.close();
      const hex = hash.digest('hex');
      await rename(incoming, join(blobs, hex));
      return { digest: `sha256:${hex}`, size };
    };
    const layer = await writeBlob(async (append) => {
      for (let written = 0; written < layerBytes; written += mib) await append(randomBytes(mib));
    });
    const config = await writeBlob((append) => append(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }))));
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const manifest = await writeBlob((append) => append(manifestBytes));
    manifestDigest = manifest.digest;
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'docker.io/big/app:v1' } }],
      }),
    );
    archive = join(dir, 'big.tar');
    await run('tar', ['-cf', archive, '-C', layout, '.']);
    await rm(layout, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function peakRss(args: readonly string[]): Promise<{ peakMiB: number; stdout: string }> {
    const { stderr, stdout } = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const match = /maxrss_kb=(\d+)/.exec(stderr);
    expect(match, stderr).not.toBeNull();
    return { peakMiB: Number(match?.[1]) / 1024, stdout };
  }

  it('pushes it with peak RSS far below the archive size', { timeout: 300_000 }, async () => {
    // The CLI's own footprint (node, tsx, the modules it loads) is measured, not assumed.
    const baseline = await peakRss(['push', '--help']);
    const config = join(dir, 'mirrorhook.yaml');
    await writeFile(config, 'mirror:\n  registry: localhost/unused\n  layout: path\nswap: always\ncopy: none\n');
    const pushed = await peakRss(['push', archive, '--to', registry.host, '--config', config, '-o', 'json']);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ target: `${registry.host}/big/app:v1`, digest: manifestDigest });
    // Reading the archive twice and uploading add buffers and sockets only.
    expect(pushed.peakMiB - baseline.peakMiB).toBeLessThan(160);
    expect((await skopeoRaw(registry, `${registry.host}/big/app:v1`)).digest).toBe(manifestDigest);
    console.log(`peak RSS pushing a 512 MiB archive: ${pushed.peakMiB.toFixed(0)} MiB (the CLI alone: ${baseline.peakMiB.toFixed(0)} MiB)`);
  });
});
