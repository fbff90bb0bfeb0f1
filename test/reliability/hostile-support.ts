import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
