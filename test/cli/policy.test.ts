import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCommand } from '../support/cli.js';

const cli = (...argv: string[]) => runCommand(argv);

let dir: string;
let configFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-policy-'));
  configFile = join(dir, 'mirrorhook.yaml');
  await writeFile(
    configFile,
    [
      'mirror:',
      '  registry: registry.internal:5000/mirror',
      'swap: always',
      'copy: none',
      'policy:',
      '  allow: ["gcr.io/my-project/tools/*"]',
      '  namespaceRules:',
      '    kube-system: ALWAYS_ALLOW',
      '',
    ].join('\n'),
  );
});

describe('mirrorhook policy binauthz', () => {
  it('prints a dry-run policy from config and flags', async () => {
    const result = await cli('policy', 'binauthz', '--config', configFile, '--allow', 'ghcr.io/my-org/**', '--serviceaccount-rule', 'ci:builder=allow');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toEqual({
      globalPolicyEvaluationMode: 'ENABLE',
      admissionWhitelistPatterns: [
        { namePattern: 'registry.internal:5000/mirror/**' },
        { namePattern: 'gcr.io/my-project/tools/*' },
        { namePattern: 'ghcr.io/my-org/**' },
      ],
      defaultAdmissionRule: { evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY' },
      kubernetesNamespaceAdmissionRules: {
        'kube-system': { evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY' },
      },
      kubernetesServiceAccountAdmissionRules: {
        'ci:builder': { evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY' },
      },
    });
  });

  it('prints one JSON object with --output json and enforces with --enforce', async () => {
    const result = await cli('policy', 'binauthz', '--config', configFile, '--enforce', '--attestor', 'projects/my-project/attestors/ci', '-o', 'json');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const policy = JSON.parse(lines[0] ?? '') as { defaultAdmissionRule: unknown };
    expect(policy.defaultAdmissionRule).toEqual({
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      requireAttestationsBy: ['projects/my-project/attestors/ci'],
    });
  });

  it('refuses a policy the API would refuse, listing every problem, and prints nothing', async () => {
    const result = await cli('policy', 'binauthz', '--config', configFile, '--allow', 'gcr.io/*/x', '--namespace-rule', 'payments=attest');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/MH_POLICY_INVALID/);
    expect(result.stderr).toMatch(/"gcr.io\/\*\/x": a wildcard is allowed only at the end/);
    expect(result.stderr).toMatch(/kubernetesNamespaceAdmissionRules.payments: REQUIRE_ATTESTATION needs at least one attestor/);
  });

  it('refuses bad rule flags and a bad policy: config block with usage errors', async () => {
    const flag = await cli('policy', 'binauthz', '--config', configFile, '--cluster-rule', 'prod=deny', '--namespace-rule', 'web');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/MH_USAGE.*"prod" is not location.clusterId.*--namespace-rule "web": write KEY=MODE/);
    const badConfig = join(dir, 'bad.yaml');
    await writeFile(badConfig, 'mirror: {registry: r.example/m}\nswap: always\ncopy: none\npolicy:\n  allow: ["r.*/x"]\n  clusterRules: {prod: ALWAYS_DENY}\n');
    const config = await cli('policy', 'binauthz', '--config', badConfig);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/MH_CONFIG_INVALID.*2 problems/);
    expect(config.stderr).toMatch(/policy.allow.0: "r.\*\/x": a wildcard cannot be in the registry host/);
    expect(config.stderr).toMatch(/policy.clusterRules.prod: "prod" is not location.clusterId/);
    expect((await cli('policy')).stderr).toMatch(/MH_USAGE: bad usage: policy needs a kind/);
    expect((await cli('policy', 'opa')).code).toBe(2);
  });

  it('lists violating images from an exported dry-run audit log', async () => {
    const result = await cli('policy', 'binauthz', '--from-audit-logs', join(import.meta.dirname, '../policy/fixtures/binauthz-dryrun.json'));
    expect(result.code).toBe(0);
    const rows = result.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^COUNT\s+IMAGE\s+NAMESPACES\s+LAST SEEN\s+DENIED BY$/);
    expect(rows[1]).toMatch(/^3\s+docker.io\/library\/nginx:1.25\s+batch,web\s+2026-11-21T09:30:00Z/);
    expect(rows).toHaveLength(4);
    expect(result.stderr).toBe('6 log entries read, 3 images violated the policy, 1 dry-run entries named no image (not counted)\n');
    const missing = await cli('policy', 'binauthz', '--from-audit-logs', join(dir, 'absent.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/MH_POLICY_AUDIT_LOG.*ENOENT/);
  });

  it('simulates over files as scan reads them: manifests evaluated, build-time and templated references counted', async () => {
    const tree = join(dir, 'repo');
    await mkdir(join(tree, 'deploy'), { recursive: true });
    await writeFile(
      join(tree, 'deploy', 'web.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web}',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: web',
        '          image: registry.internal:5000/mirror/docker.io/library/nginx:1.25',
        '        - name: tools',
        '          image: gcr.io/my-project/tools/kubectl:1.30',
        '        - name: cache',
        '          image: redis:7',
        '        - name: agent',
        '          image: "${AGENT_IMAGE}"',
        '',
      ].join('\n'),
    );
    await writeFile(join(tree, 'Dockerfile'), 'FROM golang:1.22 AS build\nFROM gcr.io/distroless/static-debian12\n');
    const result = await cli('policy', 'binauthz', '--config', configFile, '--simulate', tree, '-o', 'json');
    expect(result.code).toBe(0);
    const verdicts = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { image: string; verdict: string; rule: string; location: string });
    expect(verdicts.map(({ image, verdict, rule, location }) => [image, verdict, rule, location])).toEqual([
      ['registry.internal:5000/mirror/docker.io/library/nginx:1.25', 'allow', 'allowlist', `${join(tree, 'deploy', 'web.yaml')}:9`],
      ['gcr.io/my-project/tools/kubectl:1.30', 'allow', 'allowlist', `${join(tree, 'deploy', 'web.yaml')}:11`],
      ['redis:7', 'deny', 'defaultAdmissionRule', `${join(tree, 'deploy', 'web.yaml')}:13`],
    ]);
    expect(result.stderr).toBe(
      '2 Dockerfile and compose references not evaluated: Binary Authorization admits Pods, not builds\n1 templated references not evaluated (mirrorhook scan lists them)\n',
    );
  });

  it('simulates image volumes and what a chart deploys; images the repository builds are counted, not evaluated', async () => {
    const tree = join(dir, 'repo-volumes');
    await mkdir(join(tree, 'k8s'), { recursive: true });
    await mkdir(join(tree, 'chart', 'templates'), { recursive: true });
    await writeFile(join(tree, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n    - image: adservice\n');
    await writeFile(
      join(tree, 'k8s', 'pod.yaml'),
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: model-server}',
        'spec:',
        '  containers:',
        '    - name: server',
        '      image: adservice',
        '  volumes:',
        '    - name: weights',
        '      image:',
        '        reference: ghcr.io/acme/models/tiny:v1',
        '',
      ].join('\n'),
    );
    await writeFile(join(tree, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: "1.27"\n');
    await writeFile(join(tree, 'chart', 'values.yaml'), 'image:\n  repository: nginx\n  tag: ""\nsidecar:\n  enabled: false\n  image: busybox:1.36\n');
    await writeFile(
      join(tree, 'chart', 'templates', 'deployment.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"\n',
    );
    // The chart is rendered by the shared helm (test/setup/install-tools.sh puts it in .cache/bin).
    const originalPath = process.env.PATH;
    process.env.PATH = `${resolve('.cache/bin')}${delimiter}${originalPath ?? ''}`;
    let result;
    try {
      expect(spawnSync('helm', ['version', '--short']).error, 'helm must be on PATH: run test/setup/install-tools.sh').toBeUndefined();
      result = await cli('policy', 'binauthz', '--config', configFile, '--simulate', tree, '-o', 'json');
    } finally {
      process.env.PATH = originalPath;
    }
    expect(result.code).toBe(0);
    const verdicts = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { image: string; verdict: string; location: string });
    expect(verdicts.map(({ image, verdict, location }) => [image, verdict, location])).toEqual([
      ['nginx:1.27', 'deny', `${join(tree, 'chart', 'templates', 'deployment.yaml')}:9`],
      ['ghcr.io/acme/models/tiny:v1', 'deny', `${join(tree, 'k8s', 'pod.yaml')}:11`],
    ]);
    expect(result.stderr).toBe('1 references to images the repository builds not evaluated: skaffold, tilt or ko names them at deploy\n');
  });

  describe('--simulate --cluster', () => {
    // A loopback HTTP endpoint answering the one API call the simulation makes, in two pages, through the real
    // @kubernetes/client-node (the e2e suite runs the same against a real kube-apiserver).
    let server: Server;
    let kubeconfig: string;
    const requests: string[] = [];
    const pod = (namespace: string, name: string, serviceAccountName: string | undefined, images: string[]) => ({
      metadata: { namespace, name },
      spec: { serviceAccountName, containers: images.map((image, index) => ({ name: `c${index}`, image })) },
    });
    beforeAll(async () => {
      server = createServer((request, response) => {
        requests.push(request.url ?? '');
        const url = new URL(request.url ?? '/', 'http://localhost');
        if (url.pathname !== '/api/v1/pods') {
          response.writeHead(404).end();
          return;
        }
        const second = url.searchParams.get('continue') === 'page-2';
        const items = second
          ? [pod('kube-system', 'kube-proxy-a', undefined, ['gke.gcr.io/kube-proxy:v1.30', 'quay.io/coreos/flannel:v0.25'])]
          : [
              pod('web', 'web-1', 'default', ['registry.internal:5000/mirror/docker.io/library/nginx:1.25', 'nginx:1.25']),
              pod('web', 'web-2', 'default', ['nginx:1.25']),
            ];
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: second ? {} : { continue: 'page-2' }, items }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      kubeconfig = join(dir, 'kubeconfig');
      await writeFile(
        kubeconfig,
        `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: t, user: {token: x}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n`,
      );
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('evaluates every image the Pods use, once per namespace and service account', async () => {
      const result = await cli('policy', 'binauthz', '--config', configFile, '--simulate', '--cluster', '--kubeconfig', kubeconfig, '-o', 'json');
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const verdicts = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { image: string; verdict: string; rule: string; location: string });
      expect(verdicts.map(({ image, verdict, rule, location }) => [image, verdict, rule, location])).toEqual([
        ['registry.internal:5000/mirror/docker.io/library/nginx:1.25', 'allow', 'allowlist', 'pod web/web-1'],
        ['nginx:1.25', 'deny', 'defaultAdmissionRule', 'pod web/web-1 (+1 more)'],
        ['gke.gcr.io/kube-proxy:v1.30', 'allow', 'global-policy', 'pod kube-system/kube-proxy-a'],
        ['quay.io/coreos/flannel:v0.25', 'allow', 'kubernetesNamespaceAdmissionRules.kube-system', 'pod kube-system/kube-proxy-a'],
      ]);
      expect(requests.filter((url) => url.startsWith('/api/v1/pods'))).toHaveLength(2);
    });

    it('prints a table and a count in text mode, and applies the cluster rule named by --cluster-id', async () => {
      const result = await cli(
        'policy', 'binauthz', '--config', configFile, '--simulate', '--cluster', '--kubeconfig', kubeconfig,
        '--cluster-rule', 'us-central1-a.prod=allow', '--cluster-id', 'us-central1-a.prod',
      );
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')[0]).toMatch(/^VERDICT\s+IMAGE\s+WHERE\s+RULE\s+WHY$/);
      expect(result.stdout).toMatch(/allow\s+nginx:1.25\s+pod web\/web-1 \(\+1 more\)\s+clusterAdmissionRules.us-central1-a.prod/);
      expect(result.stderr).toBe('4 image uses: 4 allowed, 0 denied\n');
    });

    it('needs an inventory and refuses combinations that mean nothing', async () => {
      expect((await cli('policy', 'binauthz', '--simulate')).stderr).toMatch(/--simulate needs an inventory: PATH... .* or --cluster/);
      expect((await cli('policy', 'binauthz', '--simulate', '--cluster', 'deploy/')).stderr).toMatch(/PATH... or --cluster, not both/);
      expect((await cli('policy', 'binauthz', 'deploy/')).stderr).toMatch(/unexpected argument "deploy\/": paths go with --simulate/);
      expect((await cli('policy', 'binauthz', '--cluster')).stderr).toMatch(/--cluster goes with --simulate/);
      expect((await cli('policy', 'binauthz', '--simulate', '--cluster', '--cluster-id', 'prod', '--config', configFile)).stderr).toMatch(
        /--cluster-id: "prod" is not location.clusterId/,
      );
    });
  });
});
