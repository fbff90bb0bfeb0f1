import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podSpecImagePositions, podSpecImages } from '../../src/admission/positions.js';
import { podInventory } from '../../src/policy/cluster.js';
import { pullFromCoreEvent } from '../../src/pulls/events.js';
import { inventoryFromObjects } from '../../src/scan/cluster/inventory.js';
import { verifyCluster } from '../../src/verify/verify.js';
import { testMapper } from '../scan/mapper.js';

/** A PodSpec naming an image in each of the four places (fresh per call). */
function fullSpec(): Record<string, unknown> {
  return {
    initContainers: [{ name: 'init', image: 'busybox:1.36' }],
    containers: [{ name: 'app', image: 'nginx:1.25' }],
    ephemeralContainers: [{ name: 'debug', image: 'ghcr.io/tools/shell:1' }],
    volumes: [{ name: 'cache', emptyDir: {} }, { name: 'models', image: { reference: 'ghcr.io/org/weights:v1' } }],
  };
}

describe('the one PodSpec image list', () => {
  it('lists containers, initContainers, ephemeralContainers and image volumes', () => {
    expect(podSpecImages(fullSpec()).map((position) => [position.list, position.name, position.image])).toEqual([
      ['containers', 'app', 'nginx:1.25'],
      ['initContainers', 'init', 'busybox:1.36'],
      ['ephemeralContainers', 'debug', 'ghcr.io/tools/shell:1'],
      ['volumes', 'volume/models', 'ghcr.io/org/weights:v1'],
    ]);
  });

  it('says what is malformed, and lists nothing for it in the lenient form', () => {
    const spec = { containers: [{ name: 'app', image: 'nginx' }], volumes: [{ name: 'm', image: 'not-an-object' }] };
    expect(podSpecImagePositions(spec)).toEqual({ problem: 'spec.volumes[0].image is not an object' });
    expect(podSpecImages(spec)).toEqual([]);
  });

  it('verify counts a running Pod\'s image volume from outside the mirror', () => {
    const pod = {
      metadata: { namespace: 'ml', name: 'serve' },
      spec: { containers: [{ name: 'app', image: 'mirror.example.com/m/docker.io/library/nginx:1.25' }], volumes: fullSpec().volumes },
      status: { containerStatuses: [{ name: 'app', state: { running: {} } }] },
    };
    const report = verifyCluster([pod], [], new Date(0), testMapper());
    expect(report.violations.map((violation) => [violation.container, violation.image])).toEqual([['volume/models', 'ghcr.io/org/weights:v1']]);
    const waiting = { ...pod, status: { containerStatuses: [{ name: 'app', state: { running: null } }] } };
    expect(verifyCluster([waiting], [], new Date(0), testMapper()).violations).toEqual([]);
  });

  it('policy simulation and the cluster inventory list the image volume', () => {
    const pod = { metadata: { namespace: 'ml', name: 'serve' }, spec: fullSpec() } as unknown as k8s.V1Pod;
    expect(podInventory([pod]).map((item) => item.image)).toContain('ghcr.io/org/weights:v1');
    const occurrences = inventoryFromObjects([{ kind: 'Pod', items: [{ metadata: { namespace: 'ml', name: 'serve' }, spec: fullSpec() }] }], testMapper());
    expect(occurrences.find((occurrence) => occurrence.container === 'volume/models')?.image).toBe('ghcr.io/org/weights:v1');
    expect(occurrences).toHaveLength(4);
  });

  it('pulls count the kubelet\'s Pulling event for an image volume (no container fieldPath)', () => {
    const record = pullFromCoreEvent({
      metadata: { uid: 'u1', namespace: 'ml' },
      involvedObject: { kind: 'Pod', namespace: 'ml', name: 'serve' },
      reason: 'Pulling',
      message: 'Pulling image "ghcr.io/org/weights:v1"',
      count: 1,
      firstTimestamp: '2026-11-20T06:00:00Z',
      lastTimestamp: '2026-11-20T06:00:00Z',
    });
    expect(record?.image).toBe('ghcr.io/org/weights:v1');
    expect(record?.pod).toBe('serve');
  });
});
