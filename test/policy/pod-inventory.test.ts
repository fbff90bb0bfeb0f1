import { describe, expect, it } from 'vitest';
import { podInventory } from '../../src/policy/cluster.js';

describe('podInventory', () => {
  it('evaluates image volumes like containers, once per image, namespace and service account', () => {
    const pod = (name: string) => ({
      metadata: { namespace: 'ml', name },
      spec: {
        serviceAccountName: 'server',
        containers: [{ name: 'app', image: 'nginx:1.25' }],
        volumes: [{ name: 'weights', image: { reference: 'ghcr.io/acme/models/tiny:v1' } }, { name: 'scratch', emptyDir: {} }],
      },
    });
    expect(podInventory([pod('a'), pod('b')])).toEqual([
      { image: 'nginx:1.25', location: 'pod ml/a (+1 more)', namespace: 'ml', serviceAccount: 'server' },
      { image: 'ghcr.io/acme/models/tiny:v1', location: 'pod ml/a (+1 more)', namespace: 'ml', serviceAccount: 'server' },
    ]);
  });
});
