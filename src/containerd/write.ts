import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MirrorhookError } from '../errors.js';

export interface GeneratedFile {
  /** Relative to the output folder: `docker.io/hosts.toml`. */
  readonly path: string;
  readonly content: string;
}

/**
 * Writes every file, each atomically (a temporary file in the same folder, then rename), so containerd never reads
 * half a hosts.toml. Content is all generated before the first write.
 */
export async function writeFilesAtomically(outDir: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const written: string[] = [];
  for (const file of files) {
    const target = join(outDir, file.path);
    const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temporary, file.content, { mode: 0o644 });
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      const done = written.length === 0 ? '' : ` (already written: ${written.join(', ')})`;
      throw new MirrorhookError('MH_CONTAINERD_WRITE', `${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}${done}`, {
        cause: error,
      });
    }
    written.push(target);
  }
  return written;
}
