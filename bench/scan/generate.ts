import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { formatReference, parseReference } from '../../src/reference/index.js';

/**
 * A generated repository tree shaped like a real platform monorepo, with the exact set of images it pulls (the
 * ground truth) computed while writing it: Kubernetes manifests (Helm-rendered, Lists, CronJobs, JSON), multi-stage
 * Dockerfiles with ARGs, Compose files, kustomizations, raw Helm templates, and the files around them (source code
 * with SQL, docs with examples, values files) that contain `FROM` and `image:` without pulling anything.
 */
export interface GeneratedTree {
  readonly files: number;
  /** Fully-qualified references the tree pulls, sorted. */
  readonly truth: readonly string[];
}

/** A small deterministic PRNG (mulberry32), so every run writes the same tree. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const registries = ['', 'docker.io/', 'quay.io/', 'ghcr.io/', 'registry.k8s.io/', 'gcr.io/', 'public.ecr.aws/'];
const names = ['nginx', 'redis', 'postgres', 'busybox', 'alpine', 'node', 'golang', 'python', 'envoy', 'haproxy', 'traefik', 'memcached', 'rabbitmq', 'kafka', 'grafana', 'loki', 'vault', 'consul', 'etcd', 'coredns'];
const orgs = ['', 'bitnami/', 'prometheus/', 'example-org/', 'platform/', 'library/'];

export async function generateTree(root: string, fileCount: number, seed = 7): Promise<GeneratedTree> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const pool = Array.from({ length: 400 }, () => {
    const registry = pick(registries);
    const org = registry === '' || registry === 'docker.io/' ? pick(orgs) : pick(orgs.filter((org) => org !== '' && org !== 'library/'));
    return `${registry}${org}${pick(names)}:${1 + Math.floor(next() * 9)}.${Math.floor(next() * 30)}`;
  });
  const truth = new Set<string>();
  const pulled = (reference: string): string => {
    truth.add(formatReference(parseReference(reference)));
    return reference;
  };
  const image = (): string => pick(pool);
  let written = 0;
  const write = async (path: string, text: string): Promise<void> => {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
    written += 1;
  };

  for (let index = 0; written < fileCount; index += 1) {
    const service = `svc-${index}`;
    const roll = next();
    if (roll < 0.12) {
      await write(`services/${service}/deploy/deployment.yaml`, helmRendered(service, pulled(image()), pulled(image()), pick([`"`, `'`, ''])));
    } else if (roll < 0.18) {
      await write(`services/${service}/deploy/cronjob.yaml`, cronJob(service, pulled(image())));
    } else if (roll < 0.22) {
      await write(`clusters/prod/exported-${index}.yaml`, list(pulled(image()), pulled(image())));
    } else if (roll < 0.25) {
      await write(`services/${service}/deploy/job.json`, jobJson(service, pulled(image())));
    } else if (roll < 0.37) {
      const base = image();
      const builder = image().replace(/:.*$/, '');
      const version = `${1 + Math.floor(next() * 20)}.${Math.floor(next() * 10)}`;
      const copied = image();
      pulled(base);
      pulled(`${builder}:${version}`);
      pulled(copied);
      await write(`services/${service}/Dockerfile`, dockerfile(base, builder, version, copied));
    } else if (roll < 0.41) {
      await write(`services/${service}/docker-compose.yml`, compose(pulled(image()), pulled(image())));
    } else if (roll < 0.45) {
      const name = image().replace(/:.*$/, '');
      const tag = `${Math.floor(next() * 5)}.${Math.floor(next() * 20)}.${Math.floor(next() * 9)}`;
      pulled(`${name}:${tag}`);
      await write(`overlays/${service}/kustomization.yaml`, kustomization(name, tag));
    } else if (roll < 0.55) {
      await write(`charts/${service}/templates/deployment.yaml`, helmTemplate(service));
      await write(`charts/${service}/values.yaml`, values(image()));
    } else if (roll < 0.75) {
      await write(`services/${service}/internal/store/${service}.go`, goSource(service));
    } else if (roll < 0.9) {
      await write(`docs/${service}.md`, markdown(service, image()));
    } else {
      await write(`services/${service}/config/settings.json`, settings(service));
    }
  }
  return { files: written, truth: [...truth].sort() };
}

function helmRendered(name: string, main: string, sidecar: string, quote: string): string {
  return `---
# Source: ${name}/templates/deployment.yaml
# image: is set from values.yaml (see image.repository)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    helm.sh/chart: ${name}-0.1.0
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: ${name}
          image: ${quote}${main}${quote}
          ports:
            - containerPort: 8080
        - name: sidecar
          image: ${sidecar}   # image: pinned by platform team
---
# Source: ${name}/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-jobs
data:
  job-template.yaml: |
    containers:
    - image: example/placeholder:latest
`;
}

function cronJob(name: string, reference: string): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: run
            image: ${reference}
          restartPolicy: OnFailure
`;
}

function list(first: string, second: string): string {
  return `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    template:
      spec:
        initContainers: [{name: init, image: "${first}"}]
        containers:
        - {name: agent, image: "${second}"}
`;
}

function jobJson(name: string, reference: string): string {
  return `${JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { template: { spec: { containers: [{ name, image: reference }] } } } }, null, 2)}\n`;
}

function dockerfile(base: string, builder: string, version: string, copied: string): string {
  return `# syntax=docker/dockerfile:1
# FROM ubuntu:20.04 was the old base
ARG VERSION=${version}
ARG BASE=${base}
FROM --platform=$BUILDPLATFORM ${builder}:\${VERSION} AS build
WORKDIR /src
RUN <<EOF
echo "FROM scratch" > /tmp/Dockerfile.empty
EOF
RUN make
FROM build AS test
RUN make test
FROM \${BASE}
COPY --from=build /out /app
COPY --from=${copied} /bin/tool /bin/tool
`;
}

function compose(first: string, second: string): string {
  return `services:
  app:
    build: .
  db:
    image: ${first}
  cache:
    image: "${second}"
  configured:
    image: \${CUSTOM_IMAGE:-redis:7}
`;
}

function kustomization(name: string, tag: string): string {
  return `resources:
  - https://github.com/example-org/deploy//base?ref=v1.2.0
images:
  - name: ${name}
    newTag: "${tag}"
`;
}

function helmTemplate(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "${name}.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: ${name}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
`;
}

function values(reference: string): string {
  const [repository, tag] = reference.split(':');
  return `replicaCount: 1
image:
  repository: ${repository}
  tag: "${tag}"
`;
}

function goSource(name: string): string {
  return `package store

// Rows of ${name}: the query below is SQL, not a Dockerfile.
const listQuery = \`SELECT id, name FROM ${name.replace('-', '_')}_items WHERE deleted = false\`
const countQuery = "SELECT count(*) FROM audit_log"

func Image() string { return "image: unknown" }
`;
}

function markdown(name: string, reference: string): string {
  return `# ${name}

To build locally:

\`\`\`dockerfile
FROM ${reference}
\`\`\`

Deploy with a Pod spec like:

\`\`\`yaml
image: ${reference.replace(/:.*$/, ':dev')}
\`\`\`
`;
}

function settings(name: string): string {
  return `${JSON.stringify({ service: name, query: 'SELECT * FROM settings', image: { registry: 'internal' } }, null, 2)}\n`;
}
