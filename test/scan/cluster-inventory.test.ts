import { describe, expect, it } from 'vitest';
import { type KubeObject, inventoryFromObjects } from '../../src/scan/cluster/inventory.js';
import { testMapper } from './mapper.js';

const template = (image: string, init?: string) => ({
  template: { spec: { containers: [{ name: 'main', image }], ...(init === undefined ? {} : { initContainers: [{ name: 'init', image: init }] }) } },
});

/** Objects as a cluster lists them (fresh per call): a Deployment at zero replicas, its ReplicaSet and Pod, a CronJob and its Job. */
function recordedCluster(): { kind: 'Pod' | 'Deployment' | 'ReplicaSet' | 'CronJob' | 'Job'; items: KubeObject[] }[] {
  return [
    {
      kind: 'Deployment',
      items: [{ metadata: { namespace: 'web', name: 'web' }, spec: { replicas: 0, ...template('nginx:1.25', 'busybox:1.36') } }],
    },
    {
      kind: 'ReplicaSet',
      items: [
        { metadata: { namespace: 'web', name: 'web-5d4', ownerReferences: [{ kind: 'Deployment', controller: true }] }, spec: template('nginx:1.24') },
        { metadata: { namespace: 'web', name: 'standalone' }, spec: template('quay.io/o/rs:1') },
      ],
    },
    {
      kind: 'CronJob',
      items: [{ metadata: { namespace: 'data', name: 'backup' }, spec: { suspend: true, jobTemplate: { spec: template('registry.k8s.io/kubectl:v1.30.2') } } }],
    },
    { kind: 'Job', items: [{ metadata: { namespace: 'data', name: 'backup-1', ownerReferences: [{ kind: 'CronJob', controller: true }] }, spec: template('registry.k8s.io/kubectl:v1.29.0') }] },
    {
      kind: 'Pod',
      items: [
        {
          metadata: { namespace: 'web', name: 'web-5d4-x', ownerReferences: [{ kind: 'ReplicaSet', controller: true }] },
          spec: { containers: [{ name: 'main', image: 'mirror.example.com/m/docker.io/library/nginx:1.24' }], ephemeralContainers: [{ name: 'debug', image: 'nicolaka/netshoot' }] },
        },
      ],
    },
  ];
}

describe('inventoryFromObjects', () => {
  it('lists Pods and workload templates of every namespace, scaled to zero or suspended, without controller-owned copies', () => {
    const occurrences = inventoryFromObjects(recordedCluster(), testMapper());
    expect(occurrences.map((occurrence) => [occurrence.namespace, occurrence.kind, occurrence.name, occurrence.container, occurrence.source, occurrence.standing])).toEqual([
      ['data', 'CronJob', 'backup', 'main', 'registry.k8s.io/kubectl:v1.30.2', 'third-party'],
      ['web', 'Deployment', 'web', 'init', 'docker.io/library/busybox:1.36', 'third-party'],
      ['web', 'Deployment', 'web', 'main', 'docker.io/library/nginx:1.25', 'third-party'],
      ['web', 'Pod', 'web-5d4-x', 'debug', 'docker.io/nicolaka/netshoot', 'third-party'],
      ['web', 'Pod', 'web-5d4-x', 'main', 'mirror.example.com/m/docker.io/library/nginx:1.24', 'mirrored'],
      ['web', 'ReplicaSet', 'standalone', 'main', 'quay.io/o/rs:1', 'third-party'],
    ]);
  });

  it('reports templated and invalid images with a skip reason', () => {
    const occurrences = inventoryFromObjects([{ kind: 'Pod', items: [{ metadata: { namespace: 'a', name: 'p' }, spec: { containers: [{ name: 'a', image: '${IMG}' }, { name: 'b', image: 'nginx:-x' }] } }] }], testMapper());
    expect(occurrences.map((occurrence) => occurrence.skipReason)).toEqual(['templated', 'invalid-reference']);
  });
});
