#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { runCli } from './run.js';

// Node 22.1+ can keep compiled code between runs (a command's chunks load after this line); Node 20 has no
// module.enableCompileCache, so there the call is skipped (ADR 0160).
const withCompileCache = nodeModule as { enableCompileCache?: () => unknown };
if (typeof withCompileCache.enableCompileCache === 'function' && process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
  withCompileCache.enableCompileCache();
}

// `mirrorhook scan -o json | head` closes stdout early: that is the reader's choice, not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const controller = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => controller.abort(signal));
}

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  stopSignal: controller.signal,
});
process.exitCode = code;
