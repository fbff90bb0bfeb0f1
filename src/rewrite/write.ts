import { randomBytes } from 'node:crypto';
import { chmod, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MirrorhookError } from '../errors.js';

/**
 * Replaces a file's contents atomically: the new text goes to a temporary file in the same folder (same file
 * system), takes the original's permission bits, and is renamed over the original. A reader sees the old file or
 * the new one, never half of either; a failure leaves the original untouched.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.mirrorhook-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const { mode } = await stat(file);
    await writeFile(temporary, text, { flag: 'wx', mode: 0o600 });
    await chmod(temporary, mode & 0o7777);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new MirrorhookError('MH_REWRITE_WRITE', `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
