import { MirrorhookError } from '../errors.js';
import { writeFileAtomically as replaceFile } from '../files/write-atomically.js';

/**
 * Replaces a file's contents atomically, keeping its permission bits: a reader sees the old file or the new one,
 * never half of either; a failure leaves the original untouched.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  try {
    await replaceFile(file, text, { mode: 'keep' });
  } catch (error) {
    throw new MirrorhookError('MH_REWRITE_WRITE', `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
