/**
 * One transfer engine (docs/adr/0180-one-transfer-engine.md): the registry sink of the copy engine is the only code
 * outside the registry client that uploads blobs, mounts them or PUTs manifests. copy, push, pull, sync, the
 * webhook's background copies and the sync status record all reach a registry's write side through it, so blob
 * de-duplication, mounts, leaves-first manifest order and digest checks cannot be skipped by a new caller.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const srcRoot = resolve(import.meta.dirname, '../../src');
// A sink's own methods (`sink.mountBlob`) are the engine talking to its interface, not a registry write.
const writes = /(?<!sink)\.(uploadBlob|putManifest|mountBlob|deleteManifest)\(/;
const allowed = new Set(['copy/registry-endpoint.ts']);

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the registry write side', () => {
  it('is called from the copy engine’s registry sink only', () => {
    const callers = sourceFiles(srcRoot)
      .map((file) => relative(srcRoot, file))
      .filter((file) => !file.startsWith('registry/') && !allowed.has(file))
      .filter((file) => writes.test(readFileSync(join(srcRoot, file), 'utf8')));
    expect(callers).toEqual([]);
  });

  it('finds the calls it is meant to find', () => {
    expect(writes.test(readFileSync(join(srcRoot, 'copy/registry-endpoint.ts'), 'utf8'))).toBe(true);
  });
});
