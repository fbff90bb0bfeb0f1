/**
 * bench/scan: `mirrorhook scan` against the seed workflow's two greps (`grep -r "FROM"`, `grep -r "image:"`) on the
 * same generated tree: wall time (median of several runs, page cache warm) and accuracy against the tree's ground
 * truth — misses (pulled images not found) and inventions (found things that are not pulled images).
 *
 *   node --import tsx bench/scan/run.ts [--files 20000] [--runs 5] [--smoke] [--cli dist/cli/main.js]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReference, tryParseReference } from '../../src/reference/index.js';
import { generateTree } from './generate.js';

const { values } = parseArgs({
  options: { files: { type: 'string' }, runs: { type: 'string' }, smoke: { type: 'boolean' }, cli: { type: 'string' } },
});
const fileCount = Number(values.files ?? (values.smoke === true ? 600 : 20_000));
const runs = Number(values.runs ?? (values.smoke === true ? 1 : 5));
const cli = values.cli ?? 'dist/cli/main.js';

if (values.cli === undefined && !existsSync('dist/cli/main.js')) {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('bench/scan: npm run build failed');
}

const root = await mkdtemp(join(tmpdir(), 'mirrorhook-bench-scan-'));
try {
  const tree = join(root, 'repo');
  const generated = await generateTree(tree, fileCount);
  const config = join(root, 'mirrorhook.yaml');
  await writeFile(config, 'mirror:\n  registry: mirror.example.com/m\nswap: always\ncopy: none\n');
  const truth = new Set(generated.truth);

  // CPU time (user + system) of each run, from /usr/bin/time when present: on a shared machine it moves much less
  // than wall time does.
  const timeBinary = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const cpuFile = join(root, 'cpu');
  const run = (command: string, args: readonly string[]): { ms: number; cpuMs: number | undefined; stdout: string } => {
    const started = process.hrtime.bigint();
    const result =
      timeBinary === undefined
        ? spawnSync(command, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 })
        : spawnSync(timeBinary, ['-f', '%U %S', '-o', cpuFile, command, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const cpuMs =
      timeBinary === undefined
        ? undefined
        : readFileSync(cpuFile, 'utf8')
            .trim()
            .split('\n')
            .pop()
            ?.split(' ')
            .reduce((sum, seconds) => sum + Number(seconds) * 1000, 0);
    if (result.status !== 0 && !(command === 'grep' && result.status === 1)) {
      throw new Error(`bench/scan: ${command} ${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
    }
    return { ms, cpuMs, stdout: result.stdout };
  };
  const median = (samples: number[]): number => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;

  // Warm the page cache once for everyone.
  run('grep', ['-r', '-c', 'x', tree]);

  const grepTimes: number[] = [];
  const scanTimes: number[] = [];
  const grepCpu: number[] = [];
  const scanCpu: number[] = [];
  const startupTimes: number[] = [];
  const startupCpu: number[] = [];
  let grepOutput = '';
  let scanOutput = '';
  for (let index = 0; index < runs; index += 1) {
    const from = run('grep', ['-r', 'FROM', tree]);
    const image = run('grep', ['-r', 'image:', tree]);
    grepTimes.push(from.ms + image.ms);
    grepCpu.push((from.cpuMs ?? Number.NaN) + (image.cpuMs ?? Number.NaN));
    grepOutput = `${from.stdout}${image.stdout}`;
    const scan = run(process.execPath, [cli, 'scan', '--config', config, tree]);
    scanTimes.push(scan.ms);
    scanCpu.push(scan.cpuMs ?? Number.NaN);
    scanOutput = scan.stdout;
    const startup = run(process.execPath, [cli, '--version']);
    startupTimes.push(startup.ms);
    startupCpu.push(startup.cpuMs ?? Number.NaN);
  }

  // What the seed workflow makes of grep's lines: the word after FROM, the value after image:.
  const seedFound = new Set<string>();
  for (const line of grepOutput.split('\n')) {
    const content = line.slice(line.indexOf(':') + 1);
    const token = /\bFROM\s+(\S+)/.exec(content)?.[1] ?? /image:\s*["']?([^"'\s#]+)/.exec(content)?.[1];
    if (token === undefined) continue;
    const parsed = tryParseReference(token);
    seedFound.add(parsed.ok ? formatReference(parsed.reference) : token);
  }
  const scanFound = new Set(scanOutput.split('\n').filter((line) => line !== ''));

  const score = (found: Set<string>) => ({
    found: found.size,
    misses: [...truth].filter((reference) => !found.has(reference)).length,
    inventions: [...found].filter((reference) => !truth.has(reference)).length,
  });
  const seed = score(seedFound);
  const mirrorhook = score(scanFound);
  const grepMs = median(grepTimes);
  const scanMs = median(scanTimes);
  const grepCpuMs = median(grepCpu);
  const scanCpuMs = median(scanCpu);
  const startupMs = median(startupTimes);
  const startupCpuMs = median(startupCpu);
  const cpu = (ms: number) => (Number.isNaN(ms) ? '-' : `${ms.toFixed(0)} ms`);
  const ratio = (mine: number, theirs: number) => (Number.isNaN(mine) || Number.isNaN(theirs) || theirs === 0 ? '-' : `${(mine / theirs).toFixed(2)}x`);

  const rows = [
    ['tool', 'wall (median)', 'vs grep', 'CPU (median)', 'vs grep', 'references', 'misses', 'inventions'],
    ['grep -r FROM + grep -r image:', `${grepMs.toFixed(0)} ms`, '1.00x', cpu(grepCpuMs), '1.00x', String(seed.found), String(seed.misses), String(seed.inventions)],
    ['mirrorhook scan', `${scanMs.toFixed(0)} ms`, ratio(scanMs, grepMs), cpu(scanCpuMs), ratio(scanCpuMs, grepCpuMs), String(mirrorhook.found), String(mirrorhook.misses), String(mirrorhook.inventions)],
    ['(of which CLI start-up: mirrorhook --version)', `${startupMs.toFixed(0)} ms`, ratio(startupMs, grepMs), cpu(startupCpuMs), ratio(startupCpuMs, grepCpuMs), '-', '-', '-'],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  console.log(
    `bench/scan: ${generated.files} files, ${truth.size} distinct pulled images, ${runs} run(s) each; ` +
      `${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`,
  );
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  if (mirrorhook.misses > 0 || mirrorhook.inventions > 0) {
    const missed = [...truth].filter((reference) => !scanFound.has(reference)).slice(0, 5);
    const invented = [...scanFound].filter((reference) => !truth.has(reference)).slice(0, 5);
    console.log(`mirrorhook misses (first 5): ${missed.join(', ') || '-'}; inventions (first 5): ${invented.join(', ') || '-'}`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
