import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

/** Runs the CLI in-process with captured output, as a user would see it. */
export async function runCommand(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal; stdin?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  // What a shell pipes in; empty (an ended stream) when the test gives nothing.
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const code = await runCli(argv, {
    stdin,
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    stopSignal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: out, stderr: err };
}
