import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI as users run it: the built `dist/cli/main.js` in its own process (signals, exit codes, real stdio). */
export const builtCli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when the text appears on stdout or stderr; rejects when the process exits first or after `ms`. */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** A clean environment: no kubeconfig, no Docker config and no cluster variables leak in from the test runner. */
export function isolatedEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, NO_PROXY: '127.0.0.1,localhost,::1', ...extra };
}

export function spawnCli(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): CliProcess {
  if (!existsSync(builtCli)) throw new Error(`${builtCli} is missing: run "npm run build" before this test`);
  const child = spawn(process.execPath, [builtCli, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const waitFor = (text: string | RegExp, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const seen = (): boolean => (typeof text === 'string' ? `${stdout}${stderr}`.includes(text) : text.test(`${stdout}${stderr}`));
      const done = (error?: Error): void => {
        listeners.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        if (seen()) done();
      };
      const timer = setTimeout(() => done(new Error(`no "${String(text)}" within ${ms} ms; output:\n${stdout}${stderr}`)), ms);
      listeners.add(check);
      void exited.then(() => {
        if (seen()) done();
        else done(new Error(`exited before printing "${String(text)}"; output:\n${stdout}${stderr}`));
      });
      check();
    });
  return { child, output: () => ({ stdout, stderr }), waitFor, exited };
}

/** Runs the built CLI to its end; one still running after `timeoutMs` is killed (code null), so no test leaves it behind. */
export async function runBuiltCli(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }) {
  const cli = spawnCli(args, options);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}
