import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { expect } from 'vitest';
import { isolatedEnv, runBuiltCli } from '../support/built-cli.js';

/** One hostile input: the files it writes in a fresh working folder, the command run there, and what must come out. */
export interface HostileCase {
  readonly name: string;
  readonly files: Record<string, string | Buffer | ((cwd: string) => Promise<void>)>;
  readonly args: readonly string[];
  /** The error code(s) expected on stderr. */
  readonly code: RegExp;
  readonly exit: number;
  /** Most characters stderr may hold (a hostile input echoed whole floods the terminal). */
  readonly maxStderr?: number;
}

/**
 * Runs the built CLI on one hostile input and checks what every hostile input owes the user: the expected exit
 * status, an MH_ code on stderr, no stack trace, and no file written in the working folder or next to it.
 */
export async function expectRefused(root: string, hostile: HostileCase, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const slug = hostile.name.replace(/[^a-z0-9]+/gi, '-');
  const cwd = join(root, slug, 'work');
  await mkdir(cwd, { recursive: true });
  for (const [name, content] of Object.entries(hostile.files)) {
    if (typeof content === 'function') await content(cwd);
    else await writeFile(join(cwd, name), content);
  }
  const before = (await readdir(cwd)).sort();
  const result = await runBuiltCli(hostile.args, { cwd, env: isolatedEnv(cwd, env), timeoutMs: 60_000 });
  expect(result.signal, `${hostile.name}: killed (hung or crashed)`).toBeNull();
  expect(result.stderr).toMatch(hostile.code);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toMatch(/RangeError|TypeError|Maximum call stack/);
  expect(result.code).toBe(hostile.exit);
  expect(result.stderr.length).toBeLessThan(hostile.maxStderr ?? 100_000);
  expect(result.stderr).not.toMatch(/[\u0000\u001b]/);
  expect((await readdir(cwd)).sort()).toEqual(before);
  expect(await readdir(join(root, slug))).toEqual(['work']);
  return result.stderr.trim().split('\n')[0] ?? '';
}

export async function hostileRoot(name: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `mirrorhook-hostile-${name}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const nested = (depth: number, open: string, close: string, inner = ''): string => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export interface Entry {
  readonly name: string;
  readonly content?: Buffer;
  readonly type?: 'file' | 'symlink' | 'link' | 'directory';
  readonly linkname?: string;
}

export async function tarOf(entries: readonly Entry[], end = true): Promise<Buffer> {
  const pack = tarPack();
  for (const entry of entries) {
    const content = entry.content ?? Buffer.alloc(0);
    const isFile = entry.type === undefined || entry.type === 'file';
    pack.entry({ name: entry.name, type: entry.type ?? 'file', linkname: entry.linkname, size: isFile ? content.length : 0, mtime: new Date(0) }, isFile ? content : '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  // Without the two end-of-archive blocks: a header may follow.
  return end ? bytes : bytes.subarray(0, bytes.length - 1024);
}

/** A valid OCI layout of one image named docker.io/library/hostile:1, as tar entries. */
export function layoutEntries(): Entry[] {
  const layer = gzipSync(Buffer.from('a layer that is not a tar, which push does not look into'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha256(layer)}`, size: layer.length }],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          annotations: { 'io.containerd.image.name': 'docker.io/library/hostile:1' },
        },
      ],
    }),
  );
  return [
    { name: 'oci-layout', content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', content: index },
    { name: `blobs/sha256/${sha256(manifest)}`, content: manifest },
    { name: `blobs/sha256/${sha256(config)}`, content: config },
    { name: `blobs/sha256/${sha256(layer)}`, content: layer },
  ];
}

