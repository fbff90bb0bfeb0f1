import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';

// The libraries that make start-up slow (ADR 0160): a command loads them when it does its work, never for
// `--help` or for a bad flag.
const heavyPackages = [
  'undici',
  'fastify',
  '@kubernetes/client-node',
  'node-forge',
  'pino',
  'prom-client',
  'tar-stream',
  'diff',
  'google-auth-library',
  'google-gax',
  '@google-cloud/artifact-registry',
];

// Runs in a child Node: a module hook reports every package the CLI loads while it answers each `--help`, then
// the registry transport is imported on purpose to prove the hook sees what is loaded.
const childScript = `
import { register } from 'node:module';
const hook = \`export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const match = /\\\\/node_modules\\\\/((?:@[^/]+\\\\/)?[^/]+)\\\\//.exec(result.url);
  if (match) process.stderr.write('LOADED ' + match[1] + '\\\\n');
  return result;
}\`;
register('data:text/javascript,' + encodeURIComponent(hook));
const { PassThrough } = await import('node:stream');
const { runCli } = await import('./src/cli/run.ts');
const io = { stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), env: {}, cwd: process.cwd(), stopSignal: new AbortController().signal };
for (const argv of JSON.parse(process.argv[1])) {
  const code = await runCli(argv, io);
  process.stderr.write('DONE ' + argv.join(' ') + ' ' + code + '\\n');
}
process.stderr.write('CONTROL\\n');
await import('./src/registry/transport.ts');
`;

describe('start-up', () => {
  it("answers every command's --help and a bad flag without loading the heavy libraries, which a real run loads", () => {
    const invocations = commands.flatMap((command) => [[command.name, '--help'], [command.name, '--no-such-flag']]);
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript, JSON.stringify(invocations)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const [duringHelp = '', afterControl = ''] = child.stderr.split('CONTROL\n');
    for (const [name, flag] of invocations) {
      expect(duringHelp).toContain(`DONE ${name ?? ''} ${flag ?? ''} ${flag === '--help' ? 0 : 2}\n`);
    }
    const loaded = new Set([...duringHelp.matchAll(/^LOADED (\S+)$/gm)].map((match) => match[1]));
    expect(heavyPackages.filter((name) => loaded.has(name))).toEqual([]);
    expect(afterControl).toMatch(/^LOADED undici$/m);
  });
});
