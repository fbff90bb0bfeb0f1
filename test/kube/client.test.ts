import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCertificateSet } from '../../src/certs/generate.js';
import { isMirrorhookError } from '../../src/errors.js';
import { loadKubeConfig, serviceAccountTokenFile } from '../../src/kube/client.js';
import { isolatedEnv, runBuiltCli } from '../support/built-cli.js';

/** Issue 13 item 8: no kubeconfig means "no cluster is configured" and how to give one, exit 2, in every command. */

function kubeconfig(dir: string, name: string, server: string, context = name): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: ${name}, cluster: {server: "${server}"}}]`,
      `users: [{name: ${name}, user: {token: t}}]`,
      `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}}}]`,
      `current-context: "${context}"`,
    ].join('\n'),
  );
  return file;
}

const emptyHome = (): string => mkdtempSync(join(tmpdir(), 'mh-kube-home-'));

const notInCluster = () => false;

describe('loadKubeConfig', () => {
  it('says no cluster is configured, and how to give one, when there is no kubeconfig and no service account', () => {
    let caught: unknown;
    try {
      loadKubeConfig(undefined, { HOME: emptyHome() }, notInCluster);
    } catch (error) {
      caught = error;
    }
    expect(isMirrorhookError(caught, 'MH_KUBE_CONFIG')).toBe(true);
    expect(String(caught)).toMatch(/no cluster is configured: set KUBECONFIG, pass --kubeconfig FILE, .*run inside a cluster/);
    expect(String(caught)).not.toMatch(/HTTP protocol/);
  });

  it('uses --kubeconfig first, then KUBECONFIG (files merged), then ~/.kube/config, then the service account', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-kube-'));
    const home = emptyHome();
    mkdirSync(join(home, '.kube'));
    kubeconfig(join(home, '.kube'), 'config', 'https://home.example:6443', 'config');
    const flag = kubeconfig(dir, 'flag', 'https://flag.example:6443');
    const first = kubeconfig(dir, 'first', 'https://first.example:6443', 'second');
    const second = kubeconfig(dir, 'second', 'https://second.example:6443');
    const env = { HOME: home, KUBECONFIG: [first, second].join(delimiter) };
    expect(loadKubeConfig(flag, env, notInCluster).getCurrentCluster()?.server).toBe('https://flag.example:6443');
    // The first file's current-context names a context of the second: kubectl merges them the same way.
    expect(loadKubeConfig(undefined, env, notInCluster).getCurrentCluster()?.server).toBe('https://second.example:6443');
    expect(loadKubeConfig(undefined, { HOME: home }, notInCluster).getCurrentCluster()?.server).toBe('https://home.example:6443');
  });

  it('names a --kubeconfig or KUBECONFIG file that does not exist', () => {
    const home = emptyHome();
    expect(() => loadKubeConfig('/nonexistent/kubeconfig', { HOME: home }, notInCluster)).toThrow(/--kubeconfig: \/nonexistent\/kubeconfig does not exist/);
    expect(() => loadKubeConfig(undefined, { HOME: home, KUBECONFIG: '/nonexistent/k' }, notInCluster)).toThrow(/KUBECONFIG: \/nonexistent\/k does not exist/);
  });

  it('says when the kubeconfig has no current context', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-kube-'));
    const file = kubeconfig(dir, 'none', 'https://x.example:6443', '');
    expect(() => loadKubeConfig(file, { HOME: emptyHome() }, notInCluster)).toThrow(/--kubeconfig has no current context with a cluster/);
  });
});

describe('cluster commands without a kubeconfig (built CLI, clean environment)', () => {
  const commands = [
    ['pulls'],
    ['verify'],
    ['scan', '--cluster'],
    ['report', '--cluster', '--offline'],
    ['policy', 'binauthz', '--simulate', '--cluster'],
    ['certs', 'inject', '--webhook', 'mirrorhook', '--ca-file', 'ca.crt'],
    ['serve', '--manage-certs', '--port', '0'],
    // Background mirroring told to use the Kubernetes API (kubernetes.enabled: true).
    ['serve', '--config', 'with-kubernetes.yaml', '--port', '0'],
  ];

  it.each(commands.map((argv) => [argv.join(' '), argv] as const))('%s exits 2 saying no cluster is configured', async (_name, argv) => {
    // The machine running the tests is not a Pod: otherwise the in-cluster service account would be found.
    expect(existsSync(serviceAccountTokenFile), `${serviceAccountTokenFile} exists: these tests must not run inside a Pod`).toBe(false);
    const cwd = mkdtempSync(join(tmpdir(), 'mh-kube-cli-'));
    mkdirSync(join(cwd, 'home'));
    writeFileSync(join(cwd, 'with-kubernetes.yaml'), 'mirror:\n  registry: 127.0.0.1:5000/mirror\nswap: exists\nkubernetes:\n  enabled: true\n');
    // certs inject reads its CA file before the cluster.
    writeFileSync(join(cwd, 'ca.crt'), generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook' }).ca.cert);
    const result = await runBuiltCli(argv, { cwd, env: isolatedEnv(join(cwd, 'home')) });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/MH_KUBE_CONFIG: .*no cluster is configured: set KUBECONFIG, pass --kubeconfig FILE/);
    expect(result.stderr).not.toMatch(/HTTP protocol/);
  });
});
