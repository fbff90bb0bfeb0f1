/**
 * bench/sync: a rerun with nothing new, `mirrorhook sync` beside `skopeo sync` (Debian's skopeo) on the same set:
 * R repositories with the issue's tags (1.0.0, 1.1.0, 1.2.0-rc.1, 1.2.0, 2.0.0, latest), of which 1.1.0 and 1.2.0
 * are kept (`semver: ">=1.1 <2"`; skopeo: `images-by-tag-regex: ^1\.[12]\.0$`). Each tool syncs into its own fresh
 * loopback registry once (cold), then reruns; wall time includes process start for both, requests come from the
 * registries' access logs. `regsync once` (regclient, built from the Go module proxy into .cache/bin by
 * test/setup/install-tools.sh) runs the same set with `tags.allow: ^1\.[12]\.0$`.
 *
 *   node --import tsx bench/sync/run.ts            full run (20 repositories, 5 interleaved reruns, medians)
 *   node --import tsx bench/sync/run.ts --smoke    CI smoke size (3 repositories, one rerun)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestImage } from '../../test/support/images.js';
import { type TestRegistry, startRegistry } from '../../test/support/registry.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const smoke = process.argv.includes('--smoke');
const repositories = smoke ? 3 : 20;
const reruns = smoke ? 1 : 5;

interface Measurement {
  readonly seconds: number;
  readonly requests: number;
}

async function measure(registries: readonly TestRegistry[], command: string, args: readonly string[]): Promise<Measurement> {
  await settle(registries);
  const before = registries.reduce((sum, registry) => sum + registry.requestCount(), 0);
  const started = process.hrtime.bigint();
  await run(command, args, { cwd: root, maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await settle(registries);
  return { seconds, requests: registries.reduce((sum, registry) => sum + registry.requestCount(), 0) - before };
}

/** The access log is written after each answer: wait until no count moves. */
async function settle(registries: readonly TestRegistry[]): Promise<void> {
  let last = -1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = registries.reduce((sum, registry) => sum + registry.requestCount(), 0);
    if (now === last) return;
    last = now;
  }
}

const median = (values: readonly Measurement[]): Measurement => [...values].sort((a, b) => a.seconds - b.seconds)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  // The CLI as users run it (dist/, the package's bin); built here so the figures are of this tree.
  await run('npm', ['run', '-s', 'build'], { cwd: root });
  const cli = join(root, 'dist/cli/main.js');
  const regsyncBinary = join(root, '.cache/bin/regsync');
  if (!existsSync(regsyncBinary)) throw new Error(`${regsyncBinary} is missing: run test/setup/install-tools.sh (it builds regsync)`);
  const [source, ours, theirs, regs] = await Promise.all([0, 1, 2, 3].map(() => startRegistry({ countRequests: true })));
  if (source === undefined || ours === undefined || theirs === undefined || regs === undefined) throw new Error('registries did not start');
  try {
    const client = new RegistryClient();
    const names = Array.from({ length: repositories }, (_, index) => `team/app${index}`);
    for (const name of names) for (const tag of ['1.0.0', '1.1.0', '1.2.0-rc.1', '1.2.0', '2.0.0', 'latest']) await pushTestImage(client, { domain: source.host, path: name }, tag, { layerSize: 256 * 1024 });
    await client.close();
    const work = mkdtempSync(join(tmpdir(), 'mirrorhook-bench-sync-config-'));
    const config = join(work, 'mirrorhook.yaml');
    writeFileSync(config, `mirror:\n  registry: ${ours.host}/mirror\nsync:\n${names.map((name) => `  - source: ${source.host}/${name}\n    tags: {semver: ">=1.1 <2"}\n`).join('')}`);
    const yaml = join(work, 'skopeo.yaml');
    writeFileSync(yaml, `${source.host}:\n  tls-verify: false\n  images-by-tag-regex:\n${names.map((name) => `    ${name}: '^1\\.[12]\\.0$'\n`).join('')}`);
    const regsyncConfig = join(work, 'regsync.yml');
    writeFileSync(
      regsyncConfig,
      `version: 1\ncreds:\n  - registry: ${source.host}\n    tls: disabled\n  - registry: ${regs.host}\n    tls: disabled\nsync:\n${names
        .map((name) => `  - source: ${source.host}/${name}\n    target: ${regs.host}/mirror/${name}\n    type: repository\n    tags:\n      allow: ['^1\\.[12]\\.0$']\n`)
        .join('')}`,
    );
    const regsync = () => measure([source, regs], regsyncBinary, ['once', '-c', regsyncConfig, '-v', 'error']);
    const mirrorhook = () => measure([source, ours], process.execPath, [cli, 'sync', '--config', config]);
    const skopeo = () => measure([source, theirs], 'skopeo', ['sync', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', '--all', yaml, `${theirs.host}/mirror`]);
    const cold = { ours: await mirrorhook(), theirs: await skopeo(), regsync: await regsync() };
    const warm = { ours: [] as Measurement[], theirs: [] as Measurement[], regsync: [] as Measurement[] };
    for (let round = 0; round < reruns; round++) {
      warm.ours.push(await mirrorhook());
      warm.theirs.push(await skopeo());
      warm.regsync.push(await regsync());
    }
    const rows = [
      ['mirrorhook sync', cold.ours, median(warm.ours)],
      ['skopeo sync', cold.theirs, median(warm.theirs)],
      ['regsync once', cold.regsync, median(warm.regsync)],
    ] as const;
    console.log(`${repositories} repositories × 2 kept tags (of 6), ${reruns} rerun(s), medians`);
    console.log('tool             cold s  cold requests  rerun s  rerun requests');
    for (const [name, first, again] of rows) {
      console.log(`${name.padEnd(16)} ${first.seconds.toFixed(2).padStart(6)}  ${String(first.requests).padStart(13)}  ${again.seconds.toFixed(2).padStart(7)}  ${String(again.requests).padStart(14)}`);
    }
    const [oursWarm, theirsWarm] = [median(warm.ours), median(warm.theirs)];
    console.log(`rerun: skopeo sync takes ${(theirsWarm.seconds / oursWarm.seconds).toFixed(1)}x mirrorhook's time and ${(theirsWarm.requests / oursWarm.requests).toFixed(1)}x its requests`);
    const regsyncWarm = median(warm.regsync);
    console.log(`rerun: regsync once takes ${(regsyncWarm.seconds / oursWarm.seconds).toFixed(1)}x mirrorhook's time and ${(regsyncWarm.requests / oursWarm.requests).toFixed(1)}x its requests`);
  } finally {
    await Promise.all([source.stop(), ours.stop(), theirs.stop(), regs.stop()]);
  }
}

await main();
