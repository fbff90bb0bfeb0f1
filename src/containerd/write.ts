import { join } from 'node:path';
import { MirrorhookError } from '../errors.js';
import { writeFileAtomically } from '../files/write-atomically.js';

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
    try {
      await writeFileAtomically(target, file.content, { mode: 0o644, createFolder: true });
    } catch (error) {
      const done = written.length === 0 ? '' : ` (already written: ${written.join(', ')})`;
      throw new MirrorhookError('MH_CONTAINERD_WRITE', `${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}${done}`, {
        cause: error,
      });
    }
    written.push(target);
  }
  return written;
}
