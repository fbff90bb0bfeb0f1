/**
 * The tools bench/copy runs, each as users run it, with GNU time around every process (wall time, peak RSS):
 *   mirrorhook        `mirrorhook copy --from-file images.txt --jobs 4`: one process for the whole list
 *   crane copy        `crane copy --jobs 4 SRC DST`, one process per image, 4 processes at a time
 *   gcrane cp loop    a shell loop of `gcrane cp SRC DST` over images.txt, one image after another: what users
 *                     migrating to Artifact Registry run today (gcrane's own defaults)
 *   skopeo copy --all one process per image, 4 at a time
 *   regsync once      one process, a config listing every image (`type: image`), `defaults.parallel: 4`
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestRegistry } from '../../test/support/registry.js';

const run = promisify(execFile);
export const jobs = 4;

export interface Measured {
  readonly seconds: number;
  readonly peakMiB: number;
}

export interface CopyJob {
  /** host:port the tools read from: the source registry, or the WAN proxy in front of it. */
  readonly source: string;
  readonly target: TestRegistry;
  /** `repository:tag` on the source; every tool writes the same names into its own target. */
  readonly images: readonly string[];
  /** A fresh folder for this tool's files (config, image list). */
  readonly work: string;
}

export interface Peer {
  readonly name: string;
  copy(job: CopyJob): Promise<Measured>;
}

export function peers(root: string, cli: string): Peer[] {
  const bin = join(root, '.cache/bin');
  return [
    { name: 'mirrorhook', copy: (job) => timed(root, mirrorhookCommand(cli, job, writeList(job))) },
    {
      name: 'crane copy',
      copy: (job) =>
        inParallel(
          root,
          job.images.map((image) => [join(bin, 'crane'), 'copy', '--insecure', '--jobs', String(jobs), `${job.source}/${image}`, `${job.target.host}/${image}`]),
        ),
    },
    {
      name: 'gcrane cp loop',
      copy: (job) =>
        timed(root, ['sh', '-c', 'while read -r src; do "$1" cp "$src" "$2/${src#*/}" || exit 1; done < "$3"', 'sh', join(bin, 'gcrane'), job.target.host, writeList(job)]),
    },
    {
      name: 'skopeo copy --all',
      copy: (job) =>
        inParallel(
          root,
          job.images.map((image) => [
            'skopeo', 'copy', '--all', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false',
            `docker://${job.source}/${image}`, `docker://${job.target.host}/${image}`,
          ]),
        ),
    },
    {
      name: 'regsync once',
      copy: (job) => {
        const config = join(job.work, 'regsync.yml');
        const hosts = [job.source, job.target.host].map((host) => `  - registry: ${host}\n    tls: disabled\n`).join('');
        const sync = job.images.map((image) => `  - source: ${job.source}/${image}\n    target: ${job.target.host}/${image}\n    type: image\n`).join('');
        writeFileSync(config, `version: 1\ncreds:\n${hosts}defaults:\n  parallel: ${jobs}\nsync:\n${sync}`);
        return timed(root, [join(bin, 'regsync'), 'once', '-c', config, '-v', 'error']);
      },
    },
  ];
}

/** `mirrorhook copy` of the job's list; `--dry-run` reads the same manifests with the same modules but moves no blob. */
export function mirrorhookCommand(cli: string, job: CopyJob, list: string, extra: readonly string[] = []): string[] {
  const config = join(job.work, 'mirrorhook.yaml');
  writeFileSync(config, `mirror:\n  registry: ${job.target.host}\n  layout: path\n`);
  return [process.execPath, cli, 'copy', '--config', config, '--from-file', list, '--jobs', String(jobs), '--output', 'json', ...extra];
}

export function writeList(job: CopyJob): string {
  const list = join(job.work, 'images.txt');
  writeFileSync(list, job.images.map((image) => `${job.source}/${image}`).join('\n') + '\n');
  return list;
}

/** Fails early, with the way to get it, when a tool is missing. */
export async function checkTools(root: string): Promise<void> {
  const bin = join(root, '.cache/bin');
  for (const tool of ['/usr/bin/time', join(bin, 'crane'), join(bin, 'gcrane'), join(bin, 'regsync')]) {
    if (!existsSync(tool)) throw new Error(`bench/copy needs ${tool}: run test/setup/install-tools.sh`);
  }
  try {
    await run('sh', ['-c', 'command -v skopeo']);
  } catch {
    throw new Error('bench/copy needs skopeo: run test/setup/install-tools.sh');
  }
}

/** Runs commands `jobs` at a time; wall time of the whole batch, the largest peak RSS of any one process. */
async function inParallel(root: string, commands: readonly string[][]): Promise<Measured> {
  const started = performance.now();
  let peakMiB = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < commands.length) {
        const measured = await timed(root, commands[next++]!);
        if (!Number.isNaN(measured.peakMiB)) peakMiB = Math.max(peakMiB, measured.peakMiB);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, peakMiB };
}

/** One process under GNU time; for a shell loop, %M is the largest of the shell and the children it waited for. */
export async function timed(root: string, command: readonly string[]): Promise<Measured> {
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

/** Bundles the CLI once into .cache/bench-NAME/dist, as `npm run build` does into dist/ (scripts/bundle.js). */
export async function buildCli(root: string, name = 'copy'): Promise<string> {
  const outDir = join(root, `.cache/bench-${name}/dist`);
  try {
    await run(process.execPath, [join(root, 'scripts/bundle.js'), outDir], { cwd: root });
  } catch {
    // emitted anyway; checked below
  }
  const main = join(outDir, 'cli/main.js');
  if (!existsSync(main)) throw new Error(`building the CLI into ${outDir} failed`);
  return main;
}
