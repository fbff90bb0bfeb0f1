/**
 * bench/copy: the same image set copied between two loopback distribution registries by mirrorhook,
 * `skopeo copy --all` and `crane copy`, cold (empty target) and warm (everything present), beside the physical
 * limit measured in the same run: the target registry's own ingest time for the same blobs pushed raw in parallel.
 *
 *   node --import tsx bench/copy/run.ts            full run (6 images × 2 platforms, 320 MiB; 3 interleaved rounds, medians)
 *   node --import tsx bench/copy/run.ts --smoke    CI smoke size (2 images, ~10 MB, one round)
 *
 * Each tool copies into its own fresh target registry, so nobody profits from another's blobs. Peers get the
 * same parallelism over images as mirrorhook's --jobs (they copy one image per process). Wall time and peak RSS
 * come from GNU time around each process; requests from the registries' access logs (source + target).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MediaType, RegistryClient, sha256Digest } from '../../src/registry/index.js';
import { pushManifest } from '../../test/support/images.js';
import { type TestRegistry, startRegistry } from '../../test/support/registry.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const smoke = process.argv.includes('--smoke');
const mb = 1024 * 1024;
const shape = smoke
  ? { images: 2, baseBytes: 2 * mb, layerBytes: 1 * mb, layersPerPlatform: 2 }
  : { images: 6, baseBytes: 32 * mb, layerBytes: 12 * mb, layersPerPlatform: 2 };
const jobs = 4;
const rounds = smoke ? 1 : 3;

/** The measurement with the median time (its own requests and RSS, not a mix of runs). */
function median(runs: readonly Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}
const platforms = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];

interface Measurement {
  readonly seconds: number;
  readonly peakMiB: number;
  readonly requests: number;
}

interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}

async function main(): Promise<void> {
  const bin = join(root, '.cache/bin');
  for (const tool of ['skopeo', '/usr/bin/time', join(bin, 'crane')]) {
    if (tool.startsWith('/') ? !existsSync(tool) : !(await which(tool))) throw new Error(`bench/copy needs ${tool}: run test/setup/install-tools.sh`);
  }
  const cli = await buildCli();
  const source = await startRegistry({ countRequests: true });
  const work = mkdtempSync(join(tmpdir(), 'mirrorhook-bench-copy-'));
  try {
    const { images, blobs } = await seed(source);
    const totalBytes = blobs.reduce((sum, blob) => sum + blob.bytes.length, 0);
    console.log(`image set: ${images.length} images × ${platforms.length} platforms, ${blobs.length} unique blobs, ${(totalBytes / mb).toFixed(0)} MiB`);

    const raw = await rawIngest(blobs);
    const startup = await timed([process.execPath, cli, 'copy', '--help']);
    const samples = new Map<string, { cold: Measurement; warm: Measurement }[]>();

    const tools: Record<string, (target: TestRegistry) => (image: string) => string[]> = {
      mirrorhook: () => () => [],
      'skopeo copy --all': (target) => (image) => [
        'skopeo', 'copy', '--all', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false',
        `docker://${source.host}/${image}`, `docker://${target.host}/${image}`,
      ],
      'crane copy': (target) => (image) => [join(bin, 'crane'), 'copy', '--insecure', `${source.host}/${image}`, `${target.host}/${image}`],
    };
    // Rounds interleave the tools, so a change in the machine's load hits every tool alike; medians are reported.
    for (let round = 0; round < rounds; round++) for (const [name, commandFor] of Object.entries(tools)) {
      const target = await startRegistry({ countRequests: true });
      try {
        const once = async (): Promise<Measurement> => {
          const before = source.requestCount() + target.requestCount();
          const measured =
            name === 'mirrorhook'
              ? await mirrorhookCopy(cli, work, source, target, images)
              : await inParallel(images.map((image) => commandFor(target)(image)));
          await sleep(300); // let the access logs drain
          return { ...measured, requests: source.requestCount() + target.requestCount() - before };
        };
        const cold = await once();
        const warm = await once();
        samples.set(name, [...(samples.get(name) ?? []), { cold, warm }]);
      } finally {
        await target.stop();
      }
    }
    const results = new Map([...samples.entries()].map(([name, runs]) => [name, { cold: median(runs.map((run) => run.cold)), warm: median(runs.map((run) => run.warm)) }]));
    console.log(`\n${rounds} round(s); cold seconds per round: ${[...samples.entries()].map(([name, runs]) => `${name} ${runs.map((run) => run.cold.seconds.toFixed(2)).join('/')}`).join(', ')}`);
    report(raw, results, images.length, totalBytes);
    const ours = results.get('mirrorhook')!;
    const engine = ours.cold.seconds - startup.seconds;
    console.log(
      `mirrorhook copy start-up alone (mirrorhook copy --help): ${startup.seconds.toFixed(2)} s, ${startup.peakMiB.toFixed(0)} MiB, included above; ` +
        `cold minus start-up: ${engine.toFixed(2)} s = ${(engine / raw).toFixed(2)}× raw ingest`,
    );
  } finally {
    await source.stop();
  }
}

/** Pushes the image set: a base layer shared by every image and platform, random layers, OCI indexes. */
async function seed(source: TestRegistry): Promise<{ images: string[]; blobs: Blob[] }> {
  const client = new RegistryClient();
  const blobs: Blob[] = [];
  const push = async (path: string, bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256Digest(bytes);
    if (!blobs.some((blob) => blob.digest === digest)) blobs.push({ digest, bytes });
    if ((await client.headBlob({ domain: source.host, path }, digest)) === undefined) {
      await client.uploadBlob({ domain: source.host, path }, () => Readable.from([bytes]), digest, bytes.length);
    }
    return { digest, size: bytes.length };
  };
  const base = randomBytes(shape.baseBytes);
  const images: string[] = [];
  for (let index = 0; index < shape.images; index++) {
    const path = `bench/app${index}`;
    const repo = { domain: source.host, path };
    const children = [];
    for (const platform of platforms) {
      const layers = [await push(path, base)];
      for (let layer = 0; layer < shape.layersPerPlatform; layer++) layers.push(await push(path, randomBytes(shape.layerBytes)));
      const config = await push(path, Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) } })));
      const manifest = await pushManifest(
        client,
        repo,
        undefined,
        {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer })),
        },
        MediaType.ociManifest,
      );
      children.push({ mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size, platform });
    }
    await pushManifest(client, repo, 'v1', { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children }, MediaType.ociIndex);
    images.push(`${path}:v1`);
  }
  await client.close();
  return { images, blobs };
}

/** The limit: the same unique blobs pushed straight from memory into a fresh target, `jobs`×2 in parallel. */
async function rawIngest(blobs: readonly Blob[]): Promise<number> {
  const target = await startRegistry();
  const client = new RegistryClient();
  try {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: jobs * 2 }, async () => {
        while (next < blobs.length) {
          const blob = blobs[next++]!;
          await client.uploadBlob({ domain: target.host, path: 'raw/ingest' }, () => Readable.from([blob.bytes]), blob.digest, blob.bytes.length);
        }
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await client.close();
    await target.stop();
  }
}

async function mirrorhookCopy(cli: string, work: string, source: TestRegistry, target: TestRegistry, images: readonly string[]): Promise<Omit<Measurement, 'requests'>> {
  const config = join(work, `mirrorhook-${target.host.replace(/\W/g, '_')}.yaml`);
  writeFileSync(config, `mirror:\n  registry: ${target.host}\n  layout: path\n`);
  const list = join(work, 'images.txt');
  writeFileSync(list, images.map((image) => `${source.host}/${image}`).join('\n') + '\n');
  const measured = await timed([process.execPath, cli, 'copy', '--config', config, '--from-file', list, '--jobs', String(jobs), '--output', 'json']);
  return measured;
}

/** Runs commands `jobs` at a time; wall time of the whole batch, the largest peak RSS of any one process. */
async function inParallel(commands: readonly string[][]): Promise<Omit<Measurement, 'requests'>> {
  const started = performance.now();
  let peakMiB = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < commands.length) {
        const measured = await timed(commands[next++]!);
        if (!Number.isNaN(measured.peakMiB)) peakMiB = Math.max(peakMiB, measured.peakMiB);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, peakMiB };
}

async function timed(command: readonly string[]): Promise<Omit<Measurement, 'requests'>> {
  const started = performance.now();
  const { stderr } = await new Promise<{ stderr: string }>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'maxrss_kb=%M', ...command], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve({ stderr }) : reject(new Error(`${command.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))));
  });
  const seconds = (performance.now() - started) / 1000;
  const match = /maxrss_kb=(\d+)/.exec(stderr);
  return { seconds, peakMiB: match ? Number(match[1]) / 1024 : Number.NaN };
}

function report(raw: number, results: ReadonlyMap<string, { cold: Measurement; warm: Measurement }>, imageCount: number, totalBytes: number): void {
  const ours = results.get('mirrorhook')!;
  const rows = [
    ['raw ingest (limit)', raw.toFixed(2), '1.00', (raw / ours.cold.seconds).toFixed(2), '-', '-', '-', '-', '-'],
    ...[...results.entries()].map(([name, { cold, warm }]) => [
      name,
      cold.seconds.toFixed(2),
      (cold.seconds / raw).toFixed(2),
      (cold.seconds / ours.cold.seconds).toFixed(2),
      String(cold.requests),
      warm.seconds.toFixed(2),
      String(warm.requests),
      (warm.requests / imageCount).toFixed(1),
      cold.peakMiB.toFixed(0),
    ]),
  ];
  const header = ['tool', 'cold s', '× raw', '× mirrorhook', 'cold req', 'warm s', 'warm req', 'warm req/image', 'peak RSS MiB'];
  console.log(`\n${imageCount} images, ${(totalBytes / mb).toFixed(0)} MiB of unique blobs, jobs ${jobs}, ${cpus().length} cores, ${new Date().toISOString()}`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  const skopeo = results.get('skopeo copy --all');
  const crane = results.get('crane copy');
  console.log(
    `\nmirrorhook cold: ${(ours.cold.seconds / raw).toFixed(2)}× raw ingest` +
      (skopeo ? `, ${(ours.cold.seconds / skopeo.cold.seconds).toFixed(2)}× skopeo` : '') +
      (crane ? `, ${(ours.cold.seconds / crane.cold.seconds).toFixed(2)}× crane` : '') +
      `; warm: ${(ours.warm.requests / imageCount).toFixed(1)} requests per image`,
  );
}

/** Bundles the CLI once into .cache, as `npm run build` does into dist/ (scripts/bundle.js). */
async function buildCli(): Promise<string> {
  const outDir = join(root, '.cache/bench-copy/dist');
  try {
    await run(process.execPath, [join(root, 'scripts/bundle.js'), outDir], { cwd: root });
  } catch {
    // emitted anyway; checked below
  }
  const main = join(outDir, 'cli/main.js');
  if (!existsSync(main)) throw new Error(`building the CLI into ${outDir} failed`);
  return main;
}

async function which(tool: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
