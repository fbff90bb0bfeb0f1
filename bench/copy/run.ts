/**
 * bench/copy: image sets (bench/copy/sets.ts) copied from a source registry into a loopback mirror by mirrorhook and
 * its peers (bench/copy/peers.ts), cold (empty target) and warm (everything present), on loopback and through a
 * WAN-shaped link in front of the source (bench/copy/wan.ts). On loopback the limit is measured in the same run:
 * the target registry's own ingest of the same blobs pushed raw from memory.
 *
 *   node --import tsx bench/copy/run.ts                      full run: every set, both links
 *   node --import tsx bench/copy/run.ts --set medium --link loopback [--rounds N]
 *   node --import tsx bench/copy/run.ts --smoke              CI smoke: 4 small images on loopback, 2 of them through the WAN link, one round
 *
 * Each tool copies into its own fresh target registry per round, so nobody profits from another's blobs. Rounds
 * interleave the tools, so a change in the machine's load hits every tool alike; medians are reported (3 rounds,
 * 1 for the 1 GiB set). Requests come from the registries' access logs (source + target). Ratios are printed, never
 * asserted: a benchmark does not gate CI.
 */
import { mkdtempSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type TestRegistry, startRegistry } from '../../test/support/registry.js';
import { type Measured, type Peer, buildCli, checkTools, jobs, mirrorhookCommand, peers, timed, writeList } from './peers.js';
import { type SeededSet, type SetName, mb, rawIngest, seedSet, setNames } from './sets.js';
import { describeWan, startToxiproxy } from './wan.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
type Link = 'loopback' | 'wan';

interface Measurement extends Measured {
  readonly requests: number;
}
type Result = { readonly cold: Measurement; readonly warm: Measurement };

const { values } = parseArgs({
  options: { set: { type: 'string', default: 'all' }, link: { type: 'string', default: 'both' }, rounds: { type: 'string' }, smoke: { type: 'boolean', default: false } },
});
const smoke = values.smoke === true;
if (!['all', ...setNames].includes(values.set)) throw new Error(`--set must be small, medium, large or all, not ${values.set}`);
if (!['loopback', 'wan', 'both'].includes(values.link)) throw new Error(`--link must be loopback, wan or both, not ${values.link}`);
if (values.rounds !== undefined && !(Number.isInteger(Number(values.rounds)) && Number(values.rounds) >= 1)) throw new Error(`--rounds must be a whole number from 1, not ${values.rounds}`);
const sets: readonly SetName[] = smoke ? ['small'] : values.set === 'all' ? setNames : [values.set as SetName];
const links: readonly Link[] = values.link === 'both' ? ['loopback', 'wan'] : [values.link as Link];
const roundsFor = (set: SetName): number => (values.rounds !== undefined ? Number(values.rounds) : smoke || set === 'large' ? 1 : 3);

async function main(): Promise<void> {
  await checkTools(root);
  const cli = await buildCli(root);
  const tools = peers(root, cli);
  const work = mkdtempSync(join(tmpdir(), 'mirrorhook-bench-copy-'));
  const startup = await timed(root, [process.execPath, cli, 'copy', '--help']);
  const toxiproxy = links.includes('wan') ? await startToxiproxy(join(root, '.cache/bin/toxiproxy-server')) : undefined;
  const verdicts: string[] = [];
  console.log(`bench/copy ${new Date().toISOString()}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${loadavg().map((load) => load.toFixed(1)).join(' ')}`);
  console.log(`mirrorhook copy start-up alone (copy --help): ${startup.seconds.toFixed(2)} s, ${startup.peakMiB.toFixed(0)} MiB peak RSS`);
  try {
    for (const name of sets) {
      const source = await startRegistry({ countRequests: true });
      try {
        const set = await seedSet(name, source, smoke);
        console.log(`\n## set ${name}: ${set.description}; ${set.blobs.length} unique blobs, ${(set.totalBytes / mb).toFixed(0)} MiB`);
        const baseline = name === 'large' ? await dryRun(cli, source, set.images, join(work, `${name}-dry-run`)) : startup;
        for (const link of links) {
          // The smoke run proves the WAN path on 2 images only, to stay well under a minute.
          const images = smoke && link === 'wan' ? set.images.slice(0, 2) : set.images;
          const host = link === 'wan' ? await toxiproxy!.shape(`${name}-source`, source.host) : source.host;
          if (link === 'loopback') {
            const raw = await rawIngest(set.blobs, jobs * 2);
            console.log(`\n### ${name} / loopback — raw ingest (the target's limit, ${jobs * 2} blobs in parallel): ${raw.toFixed(2)} s`);
          } else {
            console.log(`\n### ${name} / wan — ${describeWan()}${images.length < set.images.length ? `; ${images.length} of the ${set.images.length} images` : ''}`);
          }
          const results = await measureTools(tools, { source, host, images, work: join(work, `${name}-${link}`) }, roundsFor(name));
          printTable(results);
          verdicts.push(...doneWhen(set, link, results, baseline));
        }
      } finally {
        await source.stop();
      }
    }
  } finally {
    await toxiproxy?.stop();
  }
  console.log(`\ndone-when (printed, never gating CI):\n${verdicts.join('\n')}`);
}

/**
 * The footprint the 1 GiB layer is judged against, as test/copy/memory.test.ts judges it: `mirrorhook copy --dry-run`
 * of the same list loads the same modules and reads the same manifests, but moves no blob.
 */
async function dryRun(cli: string, source: TestRegistry, images: readonly string[], dir: string): Promise<Measured> {
  const target = await startRegistry();
  mkdirSync(dir, { recursive: true });
  try {
    const job = { source: source.host, target, images, work: dir };
    const measured = await timed(root, mirrorhookCommand(cli, job, writeList(job), ['--dry-run']));
    console.log(`mirrorhook copy --dry-run of the set (the baseline for its peak RSS): ${measured.seconds.toFixed(2)} s, ${measured.peakMiB.toFixed(0)} MiB`);
    return measured;
  } finally {
    await target.stop();
  }
}

/** Every tool, cold then warm, in `rounds` interleaved rounds; each tool's median round by cold time. */
async function measureTools(tools: readonly Peer[], where: { source: TestRegistry; host: string; images: readonly string[]; work: string }, rounds: number): Promise<Map<string, Result>> {
  const samples = new Map<string, Result[]>();
  for (let round = 0; round < rounds; round++) {
    for (const tool of tools) {
      const target = await startRegistry({ countRequests: true });
      const dir = join(where.work, `${tool.name.replace(/\W+/g, '-')}-${round}`);
      mkdirSync(dir, { recursive: true });
      try {
        const once = async (): Promise<Measurement> => {
          const before = where.source.requestCount() + target.requestCount();
          const measured = await tool.copy({ source: where.host, target, images: where.images, work: dir });
          await sleep(300); // let the access logs drain
          return { ...measured, requests: where.source.requestCount() + target.requestCount() - before };
        };
        const cold = await once();
        const warm = await once();
        samples.set(tool.name, [...(samples.get(tool.name) ?? []), { cold, warm }]);
      } finally {
        await target.stop();
      }
    }
  }
  if (rounds > 1) console.log(`cold seconds per round: ${[...samples].map(([name, runs]) => `${name} ${runs.map((run) => run.cold.seconds.toFixed(2)).join('/')}`).join(', ')}`);
  return new Map([...samples].map(([name, runs]) => [name, { cold: median(runs.map((run) => run.cold)), warm: median(runs.map((run) => run.warm)) }]));
}

function median(runs: readonly Measurement[]): Measurement {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

function printTable(results: ReadonlyMap<string, Result>): void {
  const ours = results.get('mirrorhook')!;
  const header = ['tool', 'cold s', 'cold × mirrorhook', 'cold requests', 'warm s', 'warm × mirrorhook', 'warm requests', 'peak RSS MiB'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const [name, { cold, warm }] of results) {
    const row = [name, cold.seconds.toFixed(2), (cold.seconds / ours.cold.seconds).toFixed(2), String(cold.requests), warm.seconds.toFixed(2), (warm.seconds / ours.warm.seconds).toFixed(2), String(warm.requests), cold.peakMiB.toFixed(0)];
    console.log(`| ${row.join(' | ')} |`);
  }
}

/** The issue's done-when lines for one (set, link): ratios of mirrorhook's time to crane's and the gcrane loop's. */
function doneWhen(set: SeededSet, link: Link, results: ReadonlyMap<string, Result>, baseline: Measured): string[] {
  const ours = results.get('mirrorhook')!;
  const crane = results.get('crane copy')!;
  const loop = results.get('gcrane cp loop')!;
  const ratio = (value: number, peer: string, target: number): string => `${value.toFixed(2)}× ${peer} (target ≤ ${target}: ${value <= target ? 'met' : 'NOT met'})`;
  const label = `copy ${set.name}/${link}`;
  const lines =
    link === 'loopback'
      ? [`${label}: mirrorhook ${ratio(ours.cold.seconds / crane.cold.seconds, 'crane', 0.9)}`]
      : [`${label}: mirrorhook ${ratio(ours.cold.seconds / crane.cold.seconds, 'crane', 0.7)}, ${ratio(ours.cold.seconds / loop.cold.seconds, 'gcrane loop', 0.5)}`];
  lines.push(`${label} warm: mirrorhook ${ratio(ours.warm.seconds / crane.warm.seconds, 'crane', 0.5)}`);
  if (set.name === 'large') {
    // Flat: the layer adds buffers, not its size (the bound of test/copy/memory.test.ts: < 128 MiB over the dry run).
    const added = ours.cold.peakMiB - baseline.peakMiB;
    lines.push(`${label}: mirrorhook peak RSS ${ours.cold.peakMiB.toFixed(0)} MiB, +${added.toFixed(0)} MiB over its dry run for a ${(set.totalBytes / mb).toFixed(0)} MiB layer (target flat, < +128 MiB: ${added < 128 ? 'met' : 'NOT met'})`);
  }
  return lines;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
