import { describe, expect, it } from 'vitest';
import { pullFromCoreEvent } from '../../src/pulls/events.js';
import { type PodLike, verifyCluster } from '../../src/verify/verify.js';
import { testMapper } from '../scan/mapper.js';

/** A Pod as the API server returns it once the kubelet runs it (fresh object per call). */
function runningPod(namespace: string, name: string, containers: Record<string, string>, running = true): PodLike {
  return {
    metadata: { namespace, name },
    spec: { containers: Object.entries(containers).map(([container, image]) => ({ name: container, image })) },
    status: {
      containerStatuses: Object.entries(containers).map(([container, image]) => ({
        name: container,
        image: `docker.io/normalised/${image}`,
        state: running ? { running: { startedAt: '2026-11-20T06:00:00Z' } } : { waiting: { reason: 'ContainerCreating' } },
      })),
    },
  };
}

function pullingEvent(namespace: string, pod: string, image: string, last: string, count = 1) {
  return pullFromCoreEvent({
    metadata: { uid: `${pod}-${image}`, namespace },
    involvedObject: { kind: 'Pod', namespace, name: pod },
    reason: 'Pulling',
    message: `Pulling image "${image}"`,
    count,
    firstTimestamp: last,
    lastTimestamp: last,
  })!;
}

const since = new Date('2026-11-20T06:00:00Z');

describe('verifyCluster', () => {
  it('passes when every running container and recent pull is from the mirror or left out on purpose', () => {
    const report = verifyCluster(
      [
        runningPod('web', 'web-1', { web: 'mirror.example.com/m/docker.io/library/nginx:1.25', base: 'gcr.io/distroless/static:nonroot' }),
        runningPod('web', 'web-2', { web: 'nginx:1.25' }, false),
      ],
      [pullingEvent('web', 'web-1', 'mirror.example.com/m/docker.io/library/nginx:1.25', '2026-11-20T06:30:00Z'), pullingEvent('web', 'old', 'nginx:1.24', '2026-11-20T05:00:00Z', 9)],
      since,
      testMapper(),
    );
    expect(report).toEqual({ violations: [], runningContainers: 2, mountedVolumes: 0, recentPulls: 1 });
  });

  it('lists running containers by the image the Pod asked for, and recent pulls with their count', () => {
    const report = verifyCluster(
      [runningPod('web', 'web-1', { web: 'nginx:1.25', exporter: 'mirror.example.com/m/quay.io/p/e:1' }), runningPod('ops', 'tool', { sh: 'ghcr.io/o/tool:2' })],
      [pullingEvent('web', 'web-1', 'nginx:1.25', '2026-11-20T06:01:00Z', 3)],
      since,
      testMapper(),
    );
    expect(report.violations.map((violation) => [violation.what, violation.namespace, violation.pod, violation.container, violation.source, violation.count])).toEqual([
      ['running', 'ops', 'tool', 'sh', 'ghcr.io/o/tool:2', 1],
      ['pulled', 'web', 'web-1', '', 'docker.io/library/nginx:1.25', 3],
      ['running', 'web', 'web-1', 'web', 'docker.io/library/nginx:1.25', 1],
    ]);
    expect(report.runningContainers).toBe(3);
    expect(report.recentPulls).toBe(3);
  });

  it('checks the image volumes of a running Pod as volume/<name>, and not those of a Pod that does not run yet', () => {
    const withVolumes = (pod: PodLike, volumes: Record<string, string>): PodLike => ({
      ...pod,
      spec: { ...(pod.spec as object), volumes: Object.entries(volumes).map(([name, reference]) => ({ name, image: { reference } })) },
    });
    const report = verifyCluster(
      [
        withVolumes(runningPod('ml', 'server', { app: 'mirror.example.com/m/docker.io/library/nginx:1.25' }), {
          weights: 'ghcr.io/acme/models/tiny:v1',
          config: 'mirror.example.com/m/ghcr.io/acme/bundle:v1',
        }),
        withVolumes(runningPod('ml', 'pending', { app: 'mirror.example.com/m/docker.io/library/nginx:1.25' }, false), { weights: 'ghcr.io/acme/models/tiny:v1' }),
      ],
      [],
      since,
      testMapper(),
    );
    expect(report.violations.map((violation) => [violation.pod, violation.container, violation.source])).toEqual([['server', 'volume/weights', 'ghcr.io/acme/models/tiny:v1']]);
    expect(report.mountedVolumes).toBe(2);
  });

  it('counts an invalid reference as not from the mirror', () => {
    const report = verifyCluster([runningPod('a', 'p', { c: 'Bad Image' })], [], since, testMapper());
    expect(report.violations.map((violation) => violation.source)).toEqual(['Bad Image']);
  });
});
