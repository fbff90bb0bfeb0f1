/**
 * bench/startup: how long `mirrorhook <command>` takes to start, for every command: `<command> --help` and a real
 * small invocation that needs no network (map one reference, scan a folder, write a policy…), beside the floor
 * measured in the same run — `node -e 0`, a Node process that loads nothing — and `crane <command> --help` where
 * crane has the same command. Runs are interleaved round by round so that the machine's other load hits every row
 * alike; each row is the median of its runs. Wall time and CPU time (user + system of the process: on a shared machine it
 * moves much less than wall time does).
 *
 *   node --import tsx bench/startup/run.ts [--runs 15] [--smoke] [--cli dist/cli/main.js]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string' }, smoke: { type: 'boolean' }, cli: { type: 'string' } } });
const runs = Number(values.runs ?? (values.smoke === true ? 3 : 15));
const cli = resolve(values.cli ?? 'dist/cli/main.js');

if (values.cli === undefined && !existsSync(cli)) {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('bench/startup: npm run build failed');
}

/** A tool on PATH or in .cache/bin (test/setup/install-tools.sh), else undefined: its rows are then left out. */
function findTool(name: string): string | undefined {
  const folders = [join(process.cwd(), '.cache/bin'), ...(process.env.PATH ?? '').split(delimiter)];
  return folders.map((folder) => join(folder, name)).find((candidate) => existsSync(candidate));
}

const work = mkdtempSync(join(tmpdir(), 'mirrorhook-bench-startup-'));
try {
  const config = resolve('examples/mirrorhook.yaml');
  const mirrorhook = (...args: string[]): string[] => [process.execPath, cli, ...args];
  interface Row {
    readonly label: string;
    readonly argv: readonly string[];
    /** The row this one is compared with besides node -e 0 (crane's same command). */
    readonly peerOf?: string;
  }
  const crane = findTool('crane');
  // A real invocation per command that needs no network or cluster; those that do (copy, push, pull, verify,
  // certs inject, serve) are measured by --help only here, their work by bench/copy, bench/push, bench/admission.
  const realRuns: Record<string, string[]> = {
    map: ['map', 'nginx:1.25', 'quay.io/prometheus/node-exporter:v1.8.0'],
    scan: ['scan', '--config', config, 'examples/k8s'],
    report: ['report', '--offline', '--config', config, '--out', join(work, 'report.html'), 'examples/k8s'],
    rewrite: ['rewrite', '--dry-run', '--config', config, 'examples/k8s'],
    pulls: ['pulls', '--from-logs', 'examples/logs/gcloud-events.json'],
    policy: ['policy', 'binauthz', '--config', config],
    'mirror-config': ['mirror-config', 'containerd', '--config', config, '--hosts', 'docker.io,quay.io'],
    certs: ['certs', 'generate', '--out', join(work, 'certs'), '--ip', '127.0.0.1'],
  };
  const commandNames = ['serve', 'map', 'copy', 'scan', 'report', 'rewrite', 'pulls', 'policy', 'mirror-config', 'push', 'pull', 'certs', 'verify'];
  const cranePeers: Record<string, string> = { copy: 'copy', push: 'push', pull: 'pull' };
  const rows: Row[] = [
    { label: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'] },
    { label: 'mirrorhook --version', argv: mirrorhook('--version') },
    { label: 'mirrorhook --help', argv: mirrorhook('--help') },
  ];
  if (crane !== undefined) rows.push({ label: 'crane version', argv: [crane, 'version'] });
  for (const name of values.smoke === true ? ['map', 'copy', 'serve'] : commandNames) {
    rows.push({ label: `mirrorhook ${name} --help`, argv: mirrorhook(name, '--help') });
    const peer = cranePeers[name];
    if (crane !== undefined && peer !== undefined) {
      rows.push({ label: `crane ${peer} --help`, argv: [crane, peer, '--help'], peerOf: `mirrorhook ${name} --help` });
    }
    const real = realRuns[name];
    if (real !== undefined) rows.push({ label: `mirrorhook ${real.join(' ').replaceAll(work, '$TMP').replaceAll(config, 'CONFIG')}`, argv: mirrorhook(...real) });
  }

  // bash's `times` reports the children's CPU to the millisecond (GNU time rounds to 10 ms, too coarse here).
  const measure = (argv: readonly string[]): { wallMs: number; cpuMs: number } => {
    const started = process.hrtime.bigint();
    const result = spawnSync('bash', ['-c', '"$@" >/dev/null || exit $?; times', 'measure', ...argv], { encoding: 'utf8' });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`bench/startup: ${argv.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
    const children = result.stdout.trim().split('\n').pop() ?? '';
    const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((match) => Number(match[1]) * 60 + Number(match[2]));
    return { wallMs, cpuMs: seconds.length === 2 ? (seconds[0]! + seconds[1]!) * 1000 : Number.NaN };
  };
  const samples = new Map(rows.map((row) => [row.label, { wall: [] as number[], cpu: [] as number[] }]));
  for (const row of rows) measure(row.argv); // warm the page cache and fail early on a broken row
  for (let round = 0; round < runs; round += 1) {
    for (const row of rows) {
      const { wallMs, cpuMs } = measure(row.argv);
      samples.get(row.label)?.wall.push(wallMs);
      samples.get(row.label)?.cpu.push(cpuMs);
    }
  }
  const median = (list: readonly number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? Number.NaN;
  const medians = new Map([...samples].map(([label, { wall, cpu }]) => [label, { wall: median(wall), cpu: median(cpu) }]));
  const floor = medians.get('node -e 0 (floor)') ?? { wall: Number.NaN, cpu: Number.NaN };
  const ratio = (mine: number, theirs: number | undefined): string =>
    theirs === undefined || !Number.isFinite(mine / theirs) ? '-' : `${(mine / theirs).toFixed(2)}x`;

  const table = [['command', 'wall ms', 'vs node -e 0', 'over node ms', 'CPU ms', 'vs node -e 0', 'vs crane']];
  for (const row of rows) {
    const mine = medians.get(row.label) ?? floor;
    const peerRow = rows.find((candidate) => candidate.peerOf === row.label);
    const peer = peerRow === undefined ? undefined : medians.get(peerRow.label);
    table.push([
      row.label,
      mine.wall.toFixed(0),
      ratio(mine.wall, floor.wall),
      (mine.wall - floor.wall).toFixed(0),
      mine.cpu.toFixed(0),
      ratio(mine.cpu, floor.cpu),
      peer === undefined ? '-' : ratio(mine.wall, peer.wall),
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  console.log(
    `bench/startup: median of ${runs} interleaved run(s) per row; ${new Date().toISOString().slice(0, 16)}Z, ` +
      `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg()[0]?.toFixed(1) ?? '?'}, Node ${process.version}`,
  );
  for (const cells of table) console.log(cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
} finally {
  rmSync(work, { recursive: true, force: true });
}
