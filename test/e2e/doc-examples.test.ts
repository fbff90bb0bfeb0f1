import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helpExamples, markdownExamples } from '../docs/examples.js';
import { clusterExample, notRunHere } from '../docs/not-run-here.js';
import { isolatedEnv, spawnCli } from '../support/built-cli.js';
import { repoRoot } from './control-plane.js';
import { kubeConfig, kubeConfigPath } from './harness.js';
import { deleteWebhookConfiguration, webhookConfiguration } from './mirrorhook.js';

// The cluster examples of README.md, docs/ and --help (those test/docs/not-run-here.ts sends here), run as written
// by the built CLI against the e2e API server. The only changes are what a reader's machine supplies: a home whose
// ~/.kube/config is the e2e kubeconfig, a working folder with the repository's examples/ and the certs/ that
// `certs generate --out certs/` writes, and the webhook configuration `mirrorhook` that deploy/ would have created.

const examples = [...markdownExamples(), ...(await helpExamples())].filter(
  (example) => notRunHere.get(`${example.where.replace(/:\d+$/, '')} | ${example.command}`) === clusterExample,
);

const home = mkdtempSync(join(tmpdir(), 'mirrorhook-doc-examples-home-'));
const cwd = mkdtempSync(join(tmpdir(), 'mirrorhook-doc-examples-'));

async function run(args: readonly string[]) {
  return spawnCli(args, { cwd, env: isolatedEnv(home) }).exited;
}

beforeAll(async () => {
  mkdirSync(join(home, '.kube'));
  copyFileSync(kubeConfigPath(), join(home, '.kube', 'config'));
  symlinkSync(join(repoRoot, 'examples'), join(cwd, 'examples'));
  const generated = await run(['certs', 'generate', '--out', 'certs/']);
  expect(generated.code, generated.stderr).toBe(0);
  // What `kubectl apply -k deploy/base` creates: the configuration certs inject fills.
  const configuration = webhookConfiguration('mirrorhook', 'https://127.0.0.1:1', '');
  await kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api).createMutatingWebhookConfiguration({ body: configuration });
});
afterAll(async () => {
  await deleteWebhookConfiguration('mirrorhook');
  rmSync(home, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

describe('cluster examples in README.md, docs/ and --help, run as written', () => {
  it('finds them', () => {
    expect(examples.length).toBeGreaterThan(5);
  });

  it.each(examples.map((example) => [`${example.where}: mirrorhook ${example.command}`, example.command] as const))('%s', async (_name, command) => {
    const args = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((match) => (match[1] ?? match[2] ?? '').replace(/^~(?=\/)/, home));
    const result = await run(args);
    // Valid usage that did its work: 0, or 1 for a reported finding (verify: pulls not from the mirror yet).
    expect(result.code, `${result.stderr}${result.stdout}`).toBeLessThan(2);
    expect(result.stderr).not.toMatch(/MH_(USAGE|KUBE_CONFIG|KUBE_API|CONFIG)/);
  });
});
