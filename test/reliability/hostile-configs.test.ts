import { afterAll, beforeAll, describe, it } from 'vitest';
import { type HostileCase, expectRefused, hostileRoot, nested } from './hostile-support.js';

/**
 * Hostile configuration files (issue 14, item 5): mirrorhook.yaml, Docker config files and kubeconfigs that are
 * not YAML/JSON, the wrong shape, alias bombs, 100,000 levels deep, binary, or huge. Each run of the built CLI must
 * end with a code and exit 2, print no stack trace and write nothing.
 */
const aliasBomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256));

const configs: HostileCase[] = [
  { name: 'config not YAML', files: { 'c.yaml': 'mirror: [registry: : {\n' }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_(INVALID|UNREADABLE)/, exit: 2 },
  { name: 'config alias bomb', files: { 'c.yaml': `${aliasBomb}\nmirror: {registry: r.example/m}\n` }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_(INVALID|UNREADABLE)/, exit: 2 },
  { name: 'config 100000 levels deep', files: { 'c.yaml': `mirror: {registry: r.example/m}\nx: ${nested(100_000, '[', ']')}\n` }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_(INVALID|UNREADABLE)/, exit: 2 },
  { name: 'config binary', files: { 'c.yaml': binary }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_(INVALID|UNREADABLE)/, exit: 2 },
  { name: 'config a list', files: { 'c.yaml': '- mirror\n- registry\n' }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_INVALID/, exit: 2 },
  { name: 'config wrong types', files: { 'c.yaml': 'mirror: {registry: 5, layout: [1]}\nsources: {include: "**"}\ncopyDeadlineSeconds: -1e400\n' }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_INVALID/, exit: 2 },
  { name: 'config registry of 100000 characters', files: { 'c.yaml': `mirror: {registry: ${'a'.repeat(100_000)}}\n` }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_INVALID/, exit: 2 },
  { name: 'config 20 MB of one key', files: { 'c.yaml': `mirror: {registry: r.example/m}\nx: "${'y'.repeat(20_000_000)}"\n` }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_(INVALID|UNREADABLE)/, exit: 2 },
  { name: 'config a folder', files: { 'c.yaml': async (cwd) => (await import('node:fs/promises')).mkdir(`${cwd}/c.yaml`) }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_UNREADABLE/, exit: 2 },
  { name: 'config duplicated keys', files: { 'c.yaml': 'mirror: {registry: a.example/m}\nmirror: {registry: b.example/m}\n' }, args: ['map', '--config', 'c.yaml', 'nginx'], code: /MH_CONFIG_(INVALID|UNREADABLE)/, exit: 2 },
];

const unreachable = '127.0.0.1:9/none';
const dockerConfigs: HostileCase[] = [
  { name: 'docker config not JSON', files: { 'auth.json': '{"auths": {' }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
  { name: 'docker config a list', files: { 'auth.json': '[1,2,3]' }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
  { name: 'docker config auths a string', files: { 'auth.json': '{"auths": "everything"}' }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
  { name: 'docker config auth not base64', files: { 'auth.json': '{"auths": {"127.0.0.1:9": {"auth": "%%%not base64%%%"}}}' }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
  { name: 'docker config auth without colon', files: { 'auth.json': `{"auths": {"127.0.0.1:9": {"auth": "${Buffer.from('nocolon').toString('base64')}"}}}` }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
  // Valid JSON holding no credential: read without trouble, and the run goes on to the (unreachable) registry.
  { name: 'docker config 100000 levels deep', files: { 'auth.json': nested(100_000, '{"a":', '}', '1') }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_REGISTRY_UNREACHABLE/, exit: 1 },
  { name: 'docker config binary', files: { 'auth.json': binary }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
  { name: 'docker config helper missing', files: { 'auth.json': '{"credHelpers": {"127.0.0.1:9": "../../../bin/sh"}}' }, args: ['ls', unreachable, '--authfile', 'auth.json'], code: /MH_[A-Z_]+/, exit: 2 },
];

const kubeconfigs: HostileCase[] = [
  { name: 'kubeconfig not YAML', files: { kc: 'clusters: [name: : {\n' }, args: ['scan', '--cluster', '--kubeconfig', 'kc'], code: /MH_KUBE_CONFIG/, exit: 2 },
  { name: 'kubeconfig empty', files: { kc: '' }, args: ['scan', '--cluster', '--kubeconfig', 'kc'], code: /MH_KUBE_CONFIG/, exit: 2 },
  { name: 'kubeconfig binary', files: { kc: binary }, args: ['scan', '--cluster', '--kubeconfig', 'kc'], code: /MH_KUBE_CONFIG/, exit: 2 },
  { name: 'kubeconfig alias bomb', files: { kc: `${aliasBomb}\n` }, args: ['scan', '--cluster', '--kubeconfig', 'kc'], code: /MH_KUBE_CONFIG/, exit: 2 },
  { name: 'kubeconfig 100000 levels deep', files: { kc: `clusters: ${nested(100_000, '[', ']')}\n` }, args: ['scan', '--cluster', '--kubeconfig', 'kc'], code: /MH_KUBE_CONFIG/, exit: 2 },
  {
    name: 'kubeconfig current-context missing',
    files: { kc: 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: nowhere\n' },
    args: ['scan', '--cluster', '--kubeconfig', 'kc'],
    code: /MH_KUBE_CONFIG/,
    exit: 2,
  },
  {
    name: 'kubeconfig certificate not base64',
    files: {
      kc: 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9", certificate-authority-data: "%%%"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {client-certificate-data: "%%%", client-key-data: "%%%"}}]\ncurrent-context: x\n',
    },
    args: ['scan', '--cluster', '--kubeconfig', 'kc'],
    code: /MH_KUBE_API/,
    // Found only when the client first uses it: a coded failure of the request, exit 1.
    exit: 1,
  },
  {
    name: 'kubeconfig server not a URL',
    files: { kc: 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "::::"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\ncurrent-context: x\n' },
    args: ['scan', '--cluster', '--kubeconfig', 'kc'],
    code: /MH_KUBE_CONFIG/,
    exit: 2,
  },
  {
    name: 'kubeconfig exec plugin missing',
    files: {
      kc: 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /nonexistent/plugin}}}]\ncurrent-context: x\n',
    },
    args: ['scan', '--cluster', '--kubeconfig', 'kc'],
    code: /MH_KUBE_API/,
    // Found only when the client first uses it: a coded failure of the request, exit 1.
    exit: 1,
  },
];

describe('hostile configuration files', () => {
  let root: Awaited<ReturnType<typeof hostileRoot>>;
  beforeAll(async () => {
    root = await hostileRoot('configs');
  });
  afterAll(() => root?.remove());

  it.each(configs)('$name', async (hostile) => console.log(`${hostile.name}: ${await expectRefused(root.dir, hostile)}`));
  it.each(dockerConfigs)('$name', async (hostile) => console.log(`${hostile.name}: ${await expectRefused(root.dir, hostile)}`));
  it.each(kubeconfigs)('$name', async (hostile) => console.log(`${hostile.name}: ${await expectRefused(root.dir, hostile)}`));
});
