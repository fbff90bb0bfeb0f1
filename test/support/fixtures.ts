import type { Config } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/load.js';

/** Fixture factories: each call returns a fresh object, so no test can leak a mutation into another. */

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  const { mirror, sources, ...rest } = overrides as { mirror?: object; sources?: object };
  return validateConfig(
    {
      mirror: { registry: 'mirror.example.com/mirror', ...mirror },
      sources: { ...sources },
      swap: 'always',
      copy: 'none',
      ...rest,
    },
    'test',
  );
}

export interface ContainerSpec {
  name: string;
  image?: unknown;
}

export function pod(options: {
  name?: string;
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  ephemeralContainers?: ContainerSpec[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
} = {}): Record<string, unknown> {
  const spec: Record<string, unknown> = { containers: options.containers ?? [{ name: 'app', image: 'nginx:1.25' }] };
  if (options.initContainers) spec.initContainers = options.initContainers;
  if (options.ephemeralContainers) spec.ephemeralContainers = options.ephemeralContainers;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name ?? 'web',
      namespace: 'shop',
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec,
  };
}

export function admissionReview(options: {
  uid?: string;
  object?: unknown;
  oldObject?: unknown;
  operation?: string;
  subResource?: string;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  dryRun?: boolean;
} = {}): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: options.kind ?? { group: '', version: 'v1', kind: 'Pod' },
      resource: options.resource ?? { group: '', version: 'v1', resource: 'pods' },
      ...(options.subResource === undefined ? {} : { subResource: options.subResource }),
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      name: 'web',
      namespace: 'shop',
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'admin' },
      object: options.object === undefined ? pod() : options.object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}
