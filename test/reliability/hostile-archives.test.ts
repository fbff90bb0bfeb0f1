import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCli, isolatedEnv } from '../support/built-cli.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { layoutEntries, tarOf } from './hostile-support.js';

const run = promisify(execFile);

/**
 * Hostile archives for `push` (issue 14, item 5): truncated, entries that leave the archive (`../../x`, absolute
 * names, symlinks and hard links pointing out), tar headers that announce gigabytes, and gzip/xz bombs (a file of
 * about 1 MB that expands to 1 GiB). Each runs the built CLI under GNU time: it must end with an MH_ code, no stack
 * trace, nothing pushed, nothing written outside, and a bounded peak RSS.
 */
const gib = 1024 * 1024 * 1024;

/** One ustar header block announcing `size` bytes of `type` ('x' pax, 'L' GNU long name, '0' file). */
function rawHeader(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write('        ', 148);
  block.write(type, 156);
  block.write('ustar\0', 257);
  block.write('00', 263);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

/** Concatenated gzip members: the header, then 1 MiB of zeros compressed once and repeated (`mib` times). */
function gzipBomb(header: Buffer, mib: number): Buffer {
  const zeros = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat([gzipSync(header), ...Array.from({ length: mib }, () => zeros)]);
}

async function xzOf(bytes: Buffer, dir: string, name: string): Promise<Buffer> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  await run('xz', ['-9', '-f', file]);
  return readFile(`${file}.xz`);
}

async function xzBomb(header: Buffer, mib: number, dir: string): Promise<Buffer> {
  const head = await xzOf(header, dir, 'bomb-head');
  const zeros = await xzOf(Buffer.alloc(1024 * 1024), dir, 'bomb-zeros');
  // xz -d reads concatenated streams as one.
  return Buffer.concat([head, ...Array.from({ length: mib }, () => zeros)]);
}

interface Case {
  readonly name: string;
  readonly file: (dir: string) => Promise<Buffer>;
  readonly code: RegExp;
  readonly exit: number;
  /** Peak RSS ceiling in MiB (a pass that buffered the bomb would need over 1,024). */
  readonly maxRssMiB?: number;
}

const cases: Case[] = [
  {
    name: 'a tar cut in the middle of a blob',
    file: async () => {
      const whole = await tarOf(layoutEntries());
      return whole.subarray(0, Math.floor(whole.length * 0.6));
    },
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
  },
  {
    name: 'a tar.gz cut short',
    file: async () => {
      const whole = gzipSync(await tarOf(layoutEntries()));
      return whole.subarray(0, Math.floor(whole.length * 0.7));
    },
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
  },
  { name: 'an entry named ../../x', file: () => tarOf([...layoutEntries(), { name: '../../x', content: Buffer.from('escaped') }]), code: /MH_ARCHIVE_CORRUPT/, exit: 1 },
  { name: 'an absolute entry name', file: () => tarOf([...layoutEntries(), { name: '/tmp/mirrorhook-hostile-x', content: Buffer.from('escaped') }]), code: /MH_ARCHIVE_CORRUPT/, exit: 1 },
  {
    name: 'a blob that is a symlink to /etc/passwd',
    file: async () => {
      const entries = layoutEntries();
      const layer = entries[4]!;
      return tarOf([...entries.slice(0, 4), { name: layer.name, type: 'symlink', linkname: '/etc/passwd' }]);
    },
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
  },
  {
    name: 'a blob that is a symlink climbing out with ../',
    file: async () => {
      const entries = layoutEntries();
      return tarOf([...entries.slice(0, 4), { name: entries[4]!.name, type: 'symlink', linkname: '../../../../../../etc/passwd' }]);
    },
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
  },
  {
    name: 'a hard link to a path outside the archive',
    file: async () => {
      const entries = layoutEntries();
      return tarOf([...entries.slice(0, 4), { name: entries[4]!.name, type: 'link', linkname: '../../etc/shadow' }]);
    },
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
  },
  { name: 'a file that is no archive', file: async () => Buffer.from('hello, I am a text file\n'.repeat(100)), code: /MH_ARCHIVE_(CORRUPT|FORMAT)/, exit: 1 },
  { name: 'an empty file', file: async () => Buffer.alloc(0), code: /MH_ARCHIVE_(CORRUPT|FORMAT)/, exit: 2 },
  {
    name: 'a pax header announcing 1 GiB (gzip bomb of 1 MB)',
    file: async () => gzipBomb(rawHeader('PaxHeaders/x', gib, 'x'), 1024),
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
    maxRssMiB: 400,
  },
  {
    name: 'a GNU long name of 1 GiB (gzip bomb)',
    file: async () => gzipBomb(rawHeader('././@LongLink', gib, 'L'), 1024),
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
    maxRssMiB: 400,
  },
  {
    name: 'index.json of 1 GiB in a gzip bomb',
    file: async () => gzipBomb(Buffer.concat([await tarOf(layoutEntries().slice(0, 1), false), rawHeader('index.json', gib, '0')]), 1024),
    code: /MH_ARCHIVE_(FORMAT|CORRUPT)/,
    exit: 1,
    maxRssMiB: 400,
  },
  {
    name: 'a 1 GiB blob in an xz bomb',
    file: async (dir) => xzBomb(Buffer.concat([await tarOf(layoutEntries(), false), rawHeader(`blobs/sha256/${'0'.repeat(64)}`, gib, '0')]), 1024, dir),
    code: /MH_ARCHIVE_CORRUPT/,
    exit: 1,
    maxRssMiB: 400,
  },
];

describe('push refuses hostile archives', () => {
  let registry: TestRegistry;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-hostile-archives-'));
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pushes the valid layout the cases start from (the control)', async () => {
    const cwd = join(dir, 'control');
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, 'image.tar'), await tarOf(layoutEntries()));
    const result = await run(process.execPath, [builtCli, 'push', 'image.tar', '--to', `${registry.host}/control`, '--insecure'], { cwd, env: isolatedEnv(cwd) });
    expect(result.stdout).toContain(`${registry.host}/control/docker.io/library/hostile:1`);
  });

  it.each(cases)('$name', async ({ name, file, code, exit, maxRssMiB }) => {
    const slug = name.replace(/[^a-z0-9]+/gi, '-');
    const cwd = join(dir, slug, 'a', 'b');
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, 'archive'), await file(join(dir, slug)));
    const namespace = slug.toLowerCase().replace(/^-+|-+$/g, '');
    const outcome = await run('/usr/bin/time', ['-f', 'peak-rss-kib=%M', process.execPath, builtCli, 'push', 'archive', '--to', `${registry.host}/${namespace}`, '--insecure'], {
      cwd,
      env: isolatedEnv(cwd),
      timeout: 120_000,
    }).then(
      ({ stdout, stderr }) => ({ exitCode: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ exitCode: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    );
    const rss = Number(/peak-rss-kib=(\d+)/.exec(outcome.stderr)?.[1] ?? NaN) / 1024;
    const message = outcome.stderr.replace(/peak-rss-kib=\d+\n?/, '');
    expect(message).toMatch(code);
    expect(message).not.toMatch(/\n\s+at /);
    expect(outcome.exitCode).toBe(exit);
    if (maxRssMiB !== undefined) expect(rss).toBeLessThan(maxRssMiB);
    // Nothing written next to or above the working folder, nothing pushed.
    expect((await readdir(join(dir, slug))).sort()).toEqual(['a', ...(await readdir(join(dir, slug))).filter((entry) => entry.startsWith('bomb-'))].sort());
    expect(await readdir(join(dir, slug, 'a'))).toEqual(['b']);
    expect(await readdir(cwd)).toEqual(['archive']);
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(catalog.repositories.filter((repository) => repository.startsWith(`${namespace}/`))).toEqual([]);
    console.log(`${name}: exit ${outcome.exitCode}, peak RSS ${rss.toFixed(0)} MiB, ${message.trim().split('\n')[0]}`);
  });
});
