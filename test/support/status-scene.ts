import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { encodeDomain, parseMirrorRegistry } from '../../src/mapping/index.js';
import { recordSyncRun } from '../../src/sync/record-store.js';
import { syncMirror } from '../../src/sync/run.js';
import { RegistryClient } from '../../src/registry/index.js';
import { admissionReview, pod } from './fixtures.js';
import { pushTestImage } from './images.js';
import { type TestRegistry, startRegistry } from './registry.js';

/**
 * A small migration in progress, for the status page tests: a source and a mirror registry (Debian
 * docker-registry on loopback), one image already in the mirror, one only at the source (copied in the
 * background), one nowhere (its copy fails and retries), one excluded by config, a namespace in enforce
 * and one in audit. Secrets that must never reach the page are planted in the config.
 */
export interface StatusScene {
  readonly source: TestRegistry;
  readonly mirror: TestRegistry;
  readonly config: Config;
  /** Strings that must not appear in /status or /status.json. */
  readonly secrets: readonly string[];
  /** The reviews to send, in order, with their route. */
  readonly admissions: readonly { readonly route: '/mutate' | '/audit'; readonly body: Record<string, unknown> }[];
  /** The image whose copy never succeeds. */
  readonly failing: string;
  stop(): Promise<void>;
}

function review(namespace: string, images: string[]): Record<string, unknown> {
  const object = pod({ containers: images.map((image, index) => ({ name: `c${index}`, image })) });
  (object.metadata as Record<string, unknown>).namespace = namespace;
  const body = admissionReview({ object });
  (body.request as Record<string, unknown>).namespace = namespace;
  return body;
}

export async function startStatusScene(overrides: Record<string, unknown> = {}): Promise<StatusScene> {
  const [source, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  const client = new RegistryClient();
  try {
    await pushTestImage(client, { domain: source.host, path: 'team/app' }, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }] });
    await pushTestImage(client, { domain: mirror.host, path: `mirror/${encodeDomain(source.host)}/team/base` }, 'v1', {
      platforms: [{ os: 'linux', architecture: 'amd64' }],
    });
  } finally {
    await client.close();
  }
  const password = 's3cret-Pa55word-never-shown';
  const dockerConfig = join(mkdtempSync(join(tmpdir(), 'mh-status-secret-')), 'config.json');
  writeFileSync(dockerConfig, JSON.stringify({ auths: { [source.host]: { auth: Buffer.from(`robot:${password}`).toString('base64'), password } } }));
  const config = validateConfig(
    {
      mirror: { registry: `${mirror.host}/mirror` },
      sources: { exclude: ['quay.io/excluded/**'] },
      swap: 'exists',
      copy: 'background',
      credentials: { dockerConfig },
      kubernetes: { enabled: false },
      // One repository kept current by sync, one that vanished upstream (never succeeded: stale).
      sync: [{ source: `${source.host}/team/synced` }, { source: `${source.host}/team/vanished` }],
      ...overrides,
    },
    'status scene',
  );
  // A real sync run leaves its record in the mirror, as the CronJob would.
  const syncClient = new RegistryClient();
  try {
    await pushTestImage(syncClient, { domain: source.host, path: 'team/synced' }, '1.0.0', { layerSize: 512, platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const startedAt = new Date();
    const reports = await syncMirror(syncClient, config);
    await recordSyncRun(syncClient, parseMirrorRegistry(config.mirror.registry), { shard: undefined, reports, startedAt, finishedAt: new Date() });
  } finally {
    await syncClient.close();
  }
  const at = (path: string) => `${source.host}/${path}`;
  const failing = at('team/missing:v1');
  return {
    source,
    mirror,
    config,
    secrets: [password, dockerConfig, Buffer.from(`robot:${password}`).toString('base64')],
    failing,
    admissions: [
      { route: '/mutate', body: review('shop', [at('team/base:v1'), at('team/app:v1')]) },
      { route: '/mutate', body: review('shop', [failing, 'quay.io/excluded/tool:1']) },
      { route: '/audit', body: review('staging', [at('team/base:v1'), 'not a reference!']) },
    ],
    async stop() {
      await Promise.all([source.stop(), mirror.stop()]);
    },
  };
}

/** What the scene's admissions must add up to, per namespace (container images). */
export const expectedNamespaces = {
  shop: { mode: 'enforce', pods: 2, rewritten: 1, wouldRewrite: 0, kept: 3, invalid: 0, keptBy: { 'not-in-mirror': 2, excluded: 1 } },
  staging: { mode: 'audit', pods: 1, rewritten: 0, wouldRewrite: 1, kept: 0, invalid: 1, keptBy: {} },
} as const;
