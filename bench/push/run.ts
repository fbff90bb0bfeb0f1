/**
 * bench/push: one large image pushed from an archive into a fresh loopback distribution registry by mirrorhook,
 * `skopeo copy` and `crane push`, for the archive forms each can read: an OCI layout tar (mirrorhook, skopeo
 * oci-archive:), the same layout as a folder (mirrorhook, skopeo oci:, crane push), and gzip-compressed
 * (mirrorhook only: neither peer reads a compressed OCI tar). The point besides speed is memory: the archive must
 * stream, so peak RSS should stay flat however large the image is.
 *
 *   node --import tsx bench/push/run.ts            full run (1 image, 4 layers × 256 MiB = 1 GiB, incompressible)
 *   node --import tsx bench/push/run.ts --layer-mib=64   4 layers of that size instead
 *   node --import tsx bench/push/run.ts --smoke    CI smoke size (2 layers × 8 MiB)
 *
 * Every tool pushes into its own fresh registry (nobody profits from another's blobs). Wall time and peak RSS come
 * from GNU time around each process; mirrorhook's time includes reading the archive twice (verify, then send).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type TestRegistry, startRegistry } from '../../test/support/registry.js';
import { buildCli, timed } from '../copy/peers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const smoke = process.argv.includes('--smoke');
const mib = 1024 * 1024;
const sizeArgument = process.argv.find((argument) => argument.startsWith('--layer-mib='));
const shape = smoke
  ? { layers: 2, layerBytes: 8 * mib }
  : { layers: 4, layerBytes: (sizeArgument === undefined ? 256 : Number(sizeArgument.slice('--layer-mib='.length))) * mib };

interface Measurement {
  readonly seconds: number;
  readonly peakMiB: number;
}

async function main(): Promise<void> {
  const crane = join(root, '.cache/bin/crane');
  for (const tool of ['/usr/bin/skopeo', '/usr/bin/time', crane, '/usr/bin/gzip']) {
    if (!existsSync(tool)) throw new Error(`bench/push needs ${tool}: run test/setup/install-tools.sh`);
  }
  const cli = await buildCli(root, 'push');
  const work = mkdtempSync(join(tmpdir(), 'mirrorhook-bench-push-'));
  try {
    const layout = join(work, 'layout');
    await writeLayout(layout);
    const tar = join(work, 'image.tar');
    await run('tar', ['-cf', tar, '-C', layout, '.']);
    await run('sh', ['-c', 'gzip -1 -c "$1" > "$1.gz"', 'sh', tar]);
    const size = statSync(tar).size;
    const ref = 'docker.io/bench/big:1';
    const config = join(work, 'mirrorhook.yaml');
    writeFileSync(config, 'mirror:\n  registry: localhost/unused\n  layout: path\nswap: always\ncopy: none\n');

    const cases: [string, string, (target: TestRegistry) => string[]][] = [
      ['OCI tar', 'mirrorhook push', (t) => [process.execPath, cli, 'push', tar, '--to', t.host, '--config', config]],
      ['OCI tar', 'skopeo copy oci-archive:', (t) => ['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci-archive:${tar}:${ref}`, `docker://${t.host}/bench/big:1`]],
      ['OCI folder', 'mirrorhook push', (t) => [process.execPath, cli, 'push', layout, '--to', t.host, '--config', config]],
      ['OCI folder', 'skopeo copy oci:', (t) => ['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${ref}`, `docker://${t.host}/bench/big:1`]],
      ['OCI folder', 'crane push', (t) => [crane, 'push', '--insecure', layout, `${t.host}/bench/big:1`]],
      ['OCI tar.gz', 'mirrorhook push', (t) => [process.execPath, cli, 'push', `${tar}.gz`, '--to', t.host, '--config', config]],
    ];
    const results: [string, string, Measurement][] = [['-', 'mirrorhook --version (start-up alone)', await timed(root, [process.execPath, cli, '--version'])]];
    for (const [form, tool, command] of cases) {
      const target = await startRegistry();
      try {
        results.push([form, tool, await timed(root, command(target))]);
      } finally {
        await target.stop();
      }
    }
    report(results, size);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** An OCI layout with one image of random (incompressible) layers, written blob by blob, never whole in memory. */
async function writeLayout(layout: string): Promise<void> {
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const writeBlob = async (chunks: () => Iterable<Buffer>): Promise<{ digest: string; size: number }> => {
    const temporary = join(blobs, 'incoming');
    const hash = createHash('sha256');
    const out = createWriteStream(temporary);
    let size = 0;
    for (const chunk of chunks()) {
      hash.update(chunk);
      size += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const hex = hash.digest('hex');
    renameSync(temporary, join(blobs, hex));
    return { digest: `sha256:${hex}`, size };
  };
  const layers = [];
  for (let index = 0; index < shape.layers; index++) {
    layers.push(
      await writeBlob(function* () {
        for (let written = 0; written < shape.layerBytes; written += mib) yield randomBytes(Math.min(mib, shape.layerBytes - written));
      }),
    );
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) } }));
  const configBlob = await writeBlob(() => [config]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer })),
    }),
  );
  const manifestBlob = await writeBlob(() => [manifest]);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifestBlob,
          annotations: { 'org.opencontainers.image.ref.name': 'docker.io/bench/big:1' },
        },
      ],
    }),
  );
}


function report(results: readonly [string, string, Measurement][], archiveBytes: number): void {
  console.log(`\n1 image, ${shape.layers} layers × ${shape.layerBytes / mib} MiB, archive ${(archiveBytes / mib).toFixed(0)} MiB, ${cpus().length} cores, ${new Date().toISOString()}`);
  const header = ['archive', 'tool', 'seconds', 'MiB/s', '× mirrorhook (same form)', 'peak RSS MiB'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const [form, tool, measured] of results) {
    const ours = results.find(([otherForm, otherTool]) => otherForm === form && otherTool === 'mirrorhook push')?.[2];
    console.log(
      `| ${[
        form,
        tool,
        measured.seconds.toFixed(2),
        (archiveBytes / mib / measured.seconds).toFixed(0),
        ours === undefined ? '-' : (measured.seconds / ours.seconds).toFixed(2),
        measured.peakMiB.toFixed(0),
      ].join(' | ')} |`,
    );
  }
}


await main();
