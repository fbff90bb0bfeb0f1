/**
 * bench/scan: `mirrorhook scan` against the seed workflow's two greps (`grep -r "FROM"`, `grep -r "image:"`) on the
 * same generated tree: wall time (median of several runs, page cache warm) and accuracy against the tree's ground
 * truth — misses (pulled images not found) and inventions (found things that are not pulled images).
 *
 *   node --import tsx bench/scan/run.ts [--files 20000] [--runs 5] [--smoke]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReference, tryParseReference } from '../../src/reference/index.js';
import { generateTree } from './generate.js';

const { values } = parseArgs({
  options: { files: { type: 'string' }, runs: { type: 'string' }, smoke: { type: 'boolean' } },
});
const fileCount = Number(values.files ?? (values.smoke === true ? 600 : 20_000));
const runs = Number(values.runs ?? (values.smoke === true ? 1 : 5));
const cli = 'dist/cli/main.js';

if (!existsSync('dist/cli/commands/scan.js')) {
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

  const run = (command: string, args: readonly string[]): { ms: number; stdout: string } => {
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0 && !(command === 'grep' && result.status === 1)) {
      throw new Error(`bench/scan: ${command} ${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
    }
    return { ms, stdout: result.stdout };
  };
  const median = (samples: number[]): number => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;

  // Warm the page cache once for everyone.
  run('grep', ['-r', '-c', 'x', tree]);

  const grepTimes: number[] = [];
  const scanTimes: number[] = [];
  let grepOutput = '';
  let scanOutput = '';
  for (let index = 0; index < runs; index += 1) {
    const from = run('grep', ['-r', 'FROM', tree]);
    const image = run('grep', ['-r', 'image:', tree]);
    grepTimes.push(from.ms + image.ms);
    grepOutput = `${from.stdout}${image.stdout}`;
    const scan = run(process.execPath, [cli, 'scan', '--config', config, tree]);
    scanTimes.push(scan.ms);
    scanOutput = scan.stdout;
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

  const rows = [
    ['tool', 'time (median)', 'vs grep', 'references', 'misses', 'inventions'],
    ['grep -r FROM + grep -r image:', `${grepMs.toFixed(0)} ms`, '1.00x', String(seed.found), String(seed.misses), String(seed.inventions)],
    ['mirrorhook scan', `${scanMs.toFixed(0)} ms`, `${(scanMs / grepMs).toFixed(2)}x`, String(mirrorhook.found), String(mirrorhook.misses), String(mirrorhook.inventions)],
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
