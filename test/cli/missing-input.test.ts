import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';

const run = promisify(execFile);

/**
 * One rule for every command (issue 13, item 7): an input file named on the command line that does not exist is bad
 * usage, exit 2, with the code of that input and the path. Each row spawns the real CLI, as a user runs it.
 */
let dir: string;
const missing = (name: string) => join(dir, name);

const rows: readonly { readonly argv: (missingPath: (name: string) => string) => string[]; readonly code: string }[] = [
  { argv: (m) => ['copy', '--from-file', m('images.txt')], code: 'MH_COPY_FROM_FILE' },
  { argv: (m) => ['copy', '--src-ca-file', m('ca.pem'), 'docker.io/library/nginx:1', '127.0.0.1:1/nginx:1'], code: 'MH_REGISTRY_CA_FILE' },
  { argv: (m) => ['scan', m('deploy')], code: 'MH_SCAN_PATH' },
  { argv: (m) => ['rewrite', m('deploy')], code: 'MH_SCAN_PATH' },
  { argv: (m) => ['pulls', '--from-logs', m('pulls.json')], code: 'MH_PULLS_LOG_READ' },
  { argv: (m) => ['push', m('images.tar'), '--to', '127.0.0.1:1/air'], code: 'MH_ARCHIVE_READ' },
  { argv: (m) => ['push', '--ca-file', m('ca.pem'), 'examples/app', '--to', '127.0.0.1:1/air'], code: 'MH_REGISTRY_CA_FILE' },
  { argv: (m) => ['pull', '--ca-file', m('ca.pem'), '127.0.0.1:1/team/app:1', '--to-archive', join(tmpdir(), 'never-written.tar')], code: 'MH_REGISTRY_CA_FILE' },
  { argv: (m) => ['pull', '127.0.0.1:1/team/app:1', '--to-archive', join(m('no-such-folder'), 'images.tar')], code: 'MH_USAGE' },
  { argv: (m) => ['policy', 'binauthz', '--from-audit-logs', m('dryrun.json')], code: 'MH_POLICY_AUDIT_LOG' },
  { argv: (m) => ['policy', 'binauthz', '--simulate', m('deploy')], code: 'MH_SCAN_PATH' },
  { argv: (m) => ['report', '--offline', m('deploy')], code: 'MH_SCAN_PATH' },
  { argv: (m) => ['report', '--offline', '--from-logs', m('pulls.json')], code: 'MH_PULLS_LOG_READ' },
  { argv: (m) => ['report', '--offline', '--from-audit-logs', m('dryrun.json')], code: 'MH_POLICY_AUDIT_LOG' },
  { argv: (m) => ['report', '--offline', '--out', join(m('no-such-folder'), 'report.html'), 'examples/k8s'], code: 'MH_USAGE' },
  { argv: (m) => ['mirror-config', 'containerd', '--config', m('mirrorhook.yaml')], code: 'MH_CONFIG_UNREADABLE' },
  { argv: (m) => ['map', '--config', m('mirrorhook.yaml'), 'nginx'], code: 'MH_CONFIG_UNREADABLE' },
  { argv: (m) => ['verify', '--kubeconfig', m('kubeconfig')], code: 'MH_KUBE_CONFIG' },
  { argv: (m) => ['scan', '--cluster', '--kubeconfig', m('kubeconfig')], code: 'MH_KUBE_CONFIG' },
  { argv: (m) => ['certs', 'inject', '--webhook', 'mirrorhook', '--ca-file', m('ca.crt')], code: 'MH_CERT_READ' },
  { argv: (m) => ['serve', '--cert', m('tls.crt'), '--key', m('tls.key')], code: 'MH_CERT_READ' },
];

async function spawnCli(argv: readonly string[]): Promise<{ code: number; stderr: string }> {
  // No kubeconfig, Docker config or Google credentials of this machine: only the named file decides.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], { env, cwd: process.cwd(), timeout: 30_000 });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-missing-'));
});

describe('a missing input file named on the command line', () => {
  it('is covered for every command that reads files', () => {
    const covered = new Set(rows.map((row) => row.argv(missing)[0]));
    const readsFiles = ['report', 'push', 'pull', 'policy', 'pulls', 'rewrite', 'scan', 'copy', 'mirror-config'];
    expect(readsFiles.filter((name) => !covered.has(name))).toEqual([]);
    expect([...covered].filter((name) => !commands.some((command) => command.name === name))).toEqual([]);
  });

  it.each(rows.map((row) => [row.argv(() => '<missing>').join(' '), row] as const))('mirrorhook %s exits 2', async (_name, row) => {
    const argv = row.argv(missing);
    const { code, stderr } = await spawnCli(argv);
    expect(stderr).toContain(`${row.code}:`);
    expect(stderr).toContain(dir);
    expect(code).toBe(2);
  });
});
