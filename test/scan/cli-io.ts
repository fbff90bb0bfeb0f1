import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

/** Runs `mirrorhook ARGS` in-process and collects what it prints. */
export async function runMirrorhook(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString('utf8')));
  const code = await runCli(args, { stdout, stderr, env: {}, cwd: process.cwd(), stopSignal: new AbortController().signal });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
