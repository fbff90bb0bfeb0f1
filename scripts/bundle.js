// Builds dist/ (`npm run build`): the CLI bundled by esbuild into dist/cli/main.js (the package's bin and the
// image's ENTRYPOINT) plus one chunk per lazily loaded part, so that a command loads a handful of files instead of
// hundreds of modules (ADR 0160). Types are checked by `npm run typecheck`, not here.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Kept out of the bundle, loaded from node_modules at run time: the Google client libraries read their protobuf
// and JSON descriptors from files next to their code, and pino starts its transports as worker threads by file
// path; the Kubernetes client is 14 MB of generated models that only cluster commands load (bundled, it made
// them about 15 % faster to start and dist/ 2.5 times larger). Each is reached only through a dynamic import or a
// command that needs it.
const external = ['google-gax', 'google-auth-library', '@google-cloud/*', 'pino', 'thread-stream', 'pino-*', '@kubernetes/client-node'];

// `node scripts/bundle.js DIR` builds into DIR instead (the copy and push benchmarks build a copy of their own).
const outdir = process.argv[2] ?? 'dist';
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  outdir,
  chunkNames: 'cli/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  // Maps point at the sources by path (stack traces keep their file and line) without carrying them.
  sourcesContent: false,
  external,
  logLevel: 'warning',
  // CommonJS dependencies bundled into an ES module still call require() for Node's own modules.
  banner: { js: "import { createRequire as __mirrorhookRequire } from 'node:module'; const require = __mirrorhookRequire(import.meta.url);" },
});
