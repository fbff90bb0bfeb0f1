/**
 * The one way mirrorhook replaces a file: the content goes to a temporary file beside the target (same file system),
 * then is renamed over it, so a reader (containerd, the server's certificate reload, a browser, a build) sees the old
 * file or the new one, never half of either. A failure removes the temporary file and leaves the target as it was.
 * Errors are the file system's own: each caller wraps them in its error code. (A streamed archive is written the
 * same way by src/archive/pull.ts, which cannot hold its content in memory.)
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Permission bits of the new file; `keep` takes the existing file's (which must exist). Default 0o644. */
  readonly mode?: number | 'keep';
  /** Create the target's folder first. */
  readonly createFolder?: boolean;
}

export async function writeFileAtomically(file: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode === 'keep' ? (await stat(file)).mode & 0o7777 : (options.mode ?? 0o644);
  if (options.createFolder === true) await mkdir(dirname(file), { recursive: true });
  const temporary = join(dirname(file), `.${basename(file)}.mirrorhook-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // Created private, then given its mode: a key is never readable by others, even for a moment.
    await writeFile(temporary, content, { flag: 'wx', mode: 0o600 });
    if (mode !== 0o600) await chmod(temporary, mode);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
