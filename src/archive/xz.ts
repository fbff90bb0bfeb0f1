/**
 * The one place that runs the `xz` program (xz-utils): decompressing `.tar.xz` archives read by `push`, compressing
 * those written by `pull`, both streaming. Node has no xz codec; see docs/adr/0042-image-archives.md.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { type Readable, type Writable, pipeline } from 'node:stream';
import { pipeline as pipelinePromise } from 'node:stream/promises';
import { MirrorhookError, isMirrorhookError } from '../errors.js';

/** What spawns `xz -dc`; tests and machines without xz may pass their own. */
export type Decompressor = (input: Readable) => { output: Readable; done: Promise<void> };

/** Runs xz with `args`; `exited` settles with its exit: MH_ARCHIVE_XZ when it cannot start, its own message when it fails. */
function runXz(binary: string, args: readonly string[]): { child: ChildProcessWithoutNullStreams; exited: Promise<void> } {
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new MirrorhookError('MH_ARCHIVE_XZ', `cannot run xz (${(error as NodeJS.ErrnoException).code ?? error.message}); install xz-utils`)),
    );
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`xz: ${Buffer.concat(stderr).toString().trim().replace(/^xz: \(stdin\): /, '') || `exit status ${code}`}`));
    });
  });
  return { child, exited };
}

/** Decompresses with the given xz program, streaming. */
export const xzDecompressorFor =
  (binary: string): Decompressor =>
  (input) => {
    const { child, exited } = runXz(binary, ['-dc']);
    pipeline(input, child.stdin, () => {
      // a broken stdin shows up as xz's exit status
    });
    return { output: child.stdout, done: exited };
  };

export const xzDecompressor: Decompressor = xzDecompressorFor('xz');

/** Compresses `input` into `output` with xz (one thread, level 6: what `xz` does by default). */
export function xzCompress(input: Readable, output: Writable, binary = 'xz'): Promise<void> {
  const { child, exited } = runXz(binary, ['-zc', '-T1', '-6']);
  return Promise.all([pipelinePromise(input, child.stdin), pipelinePromise(child.stdout, output), exited]).then(
    () => undefined,
    async (error: unknown) => {
      // A broken pipe is what a missing xz looks like from our side: say that xz is missing.
      const notStarted = await exited.then(
        () => undefined,
        (xzError: unknown) => (isMirrorhookError(xzError, 'MH_ARCHIVE_XZ') ? xzError : undefined),
      );
      throw notStarted ?? error;
    },
  );
}
