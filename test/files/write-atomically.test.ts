import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/files/write-atomically.js';

describe('writeFileAtomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-atomic-'));

  it('replaces a file keeping its mode, or sets the mode asked for, leaving no temporary file', async () => {
    const kept = join(dir, 'kept.yaml');
    writeFileSync(kept, 'old');
    chmodSync(kept, 0o640);
    await writeFileAtomically(kept, 'new', { mode: 'keep' });
    expect(readFileSync(kept, 'utf8')).toBe('new');
    expect(statSync(kept).mode & 0o777).toBe(0o640);
    const key = join(dir, 'nested/tls.key');
    await writeFileAtomically(key, 'secret', { mode: 0o600, createFolder: true });
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).isDirectory()).toBe(true);
    expect(readdirSync(dir).filter((name) => name.includes('mirrorhook-'))).toEqual([]);
  });

  it('leaves the target as it was and removes its temporary file when the rename fails', async () => {
    const target = join(dir, 'a-folder');
    mkdirSync(join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomically(target, 'text')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(dir).filter((name) => name.includes('mirrorhook-'))).toEqual([]);
  });
});
