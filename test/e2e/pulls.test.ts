import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../src/mapping/index.js';
import { aggregatePulls } from '../../src/pulls/aggregate.js';
import { collectPullEvents, watchPullEvents } from '../../src/pulls/cluster.js';
import { PullTally } from '../../src/pulls/events.js';
import { runCommand } from '../support/cli.js';
import { createNamespace, kubeConfig, kubeConfigPath, kubectl } from './harness.js';

// `mirrorhook pulls` against the real API server: Pulling events written through core/v1 and events.k8s.io/v1
// (the same objects seen through two APIs), counted once each, and counted further while watching.

const mirror = 'mirror.e2e.test/pulls';
const mapper = createMapper({ mirror: { registry: mirror, layout: 'host-path' }, sources: { include: ['**'], exclude: [] } });

describe('pulls from cluster events', () => {
  let namespace: string;
  let dir: string;
  let configFile: string;
  const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);

  /** A kubelet-style `Pulling` event about a Pod, through core/v1. */
  const coreEvent = (name: string, image: string, count: number, first: Date, last: Date): k8s.CoreV1Event => ({
    metadata: { name },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: `${name}-pod` },
    reason: 'Pulling',
    message: `Pulling image "${image}"`,
    type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' },
    count,
    firstTimestamp: first,
    lastTimestamp: last,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-pulls-'));
    configFile = join(dir, 'mirrorhook.yaml');
    await writeFile(configFile, `mirror:\n  registry: ${mirror}\nswap: always\ncopy: none\n`);
    namespace = await createNamespace();
    const now = Date.now();
    const hoursAgo = (hours: number) => new Date(now - hours * 3_600_000);
    await core().createNamespacedEvent({ namespace, body: coreEvent('web-a', 'nginx:1.25.4', 7, hoursAgo(11), hoursAgo(1)) });
    await core().createNamespacedEvent({ namespace, body: coreEvent('web-b', 'docker.io/library/nginx:1.25.4', 5, hoursAgo(6), hoursAgo(0.5)) });
    await core().createNamespacedEvent({ namespace, body: coreEvent('cache', `${mirror}/docker.io/library/redis:7.2`, 2, hoursAgo(2), hoursAgo(1)) });
    await core().createNamespacedEvent({
      namespace,
      body: { ...coreEvent('not-a-pull', 'nginx:1.25.4', 9, hoursAgo(1), hoursAgo(1)), reason: 'Pulled', message: 'Successfully pulled image "nginx:1.25.4"' },
    });
    // A newer recorder writes through events.k8s.io/v1 with a series. kubectl sends its MicroTime fields with the
    // six fractional digits the API server requires (the generated client sends milliseconds).
    const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    const created = await kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'exporter', namespace },
        eventTime: microTime(hoursAgo(3)),
        reportingController: 'kubelet',
        reportingInstance: 'node-1',
        action: 'Pulling',
        reason: 'Pulling',
        note: 'Pulling image "quay.io/prometheus/nginx-exporter:1.1.0"',
        type: 'Normal',
        regarding: { apiVersion: 'v1', kind: 'Pod', namespace, name: 'exporter-pod' },
        series: { count: 4, lastObservedTime: microTime(hoursAgo(2)) },
      }),
    });
    if (created.code !== 0) throw new Error(`kubectl create events.k8s.io/v1 Event failed: ${created.stderr}`);
  });

  afterAll(async () => {
    await core().deleteNamespace({ name: namespace }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts each event once across both event APIs, per normalised image', async () => {
    const tally = new PullTally();
    await collectPullEvents(kubeConfig(), tally, namespace);
    const summary = aggregatePulls(tally.records(), mapper);
    expect(summary.rows.map((row) => [row.image, row.pulls, row.registry, row.standing])).toEqual([
      ['docker.io/library/nginx:1.25.4', 12, 'docker.io', 'third-party'],
      ['quay.io/prometheus/nginx-exporter:1.1.0', 4, 'quay.io', 'third-party'],
      [`${mirror}/docker.io/library/redis:7.2`, 2, 'mirror.e2e.test', 'mirrored'],
    ]);
    // 12 pulls seen over ~10.5 hours: under 12 per 6 hours.
    expect(summary.rows[0]?.pullsPer6h).toBeLessThan(12);
    expect(summary.rows[0]?.pullsPer6h).toBeGreaterThan(6);
  });

  it('keeps counting while watching: new events and count updates', async () => {
    const tally = new PullTally();
    const watching = watchPullEvents(kubeConfig(), tally, 6_000, new AbortController().signal, namespace);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const now = new Date();
    await core().createNamespacedEvent({ namespace, body: coreEvent('late', 'busybox:1.36', 1, now, now) });
    const existing = await core().readNamespacedEvent({ namespace, name: 'web-a' });
    await core().replaceNamespacedEvent({ namespace, name: 'web-a', body: { ...existing, count: 9, lastTimestamp: now } });
    await watching;
    const rows = aggregatePulls(tally.records(), mapper).rows;
    expect(rows.find((row) => row.image === 'docker.io/library/busybox:1.36')?.pulls).toBe(1);
    expect(rows.find((row) => row.image === 'docker.io/library/nginx:1.25.4')?.pulls).toBe(14);
  });

  it('prints the table through the CLI', async () => {
    const result = await runCommand(['pulls', '--kubeconfig', kubeConfigPath(), '--config', configFile, '-n', namespace]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^PULLS\s+IMAGE\s+REGISTRY/);
    expect(lines[1]).toMatch(/^14\s+docker\.io\/library\/nginx:1\.25\.4\s+docker\.io\s/);
    expect(lines[1]).toMatch(/% of 100$/);
    expect(result.stdout).toContain('mirror.e2e.test (mirror)');
  });
});
