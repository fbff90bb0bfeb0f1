import { connect, type ClientHttp2Session } from 'node:http2';
import fc from 'fast-check';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { warningMaxLength } from '../../src/admission/index.js';
import { generateCertificateSet } from '../../src/certs/index.js';
import { validateConfig } from '../../src/config/load.js';
import { parseReference } from '../../src/reference/index.js';
import { serve } from '../../src/server/listen.js';

/**
 * Admission fuzzing through the real HTTP stack: the webhook served over TLS (HTTP/2, as the API server calls it),
 * fed AdmissionReviews mutated at random paths. Shared by the unit test (a few thousand) and `npm run soak:fuzz` (bench/reliability).
 */

const mirror = 'mirror.example.com/mirror';
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function validReview(): { [key: string]: Json } {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      name: 'web',
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'admin' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { team: 'shop' } },
        spec: {
          containers: [
            { name: 'app', image: 'nginx:1.25' },
            { name: 'proxy', image: `quay.io/org/envoy@sha256:${'b'.repeat(64)}` },
          ],
          initContainers: [{ name: 'init', image: 'busybox' }],
          ephemeralContainers: [{ name: 'debug', image: 'ghcr.io/tools/shell:1' }],
        },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** Every path (as keys) of a JSON value, the root included. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => paths(item, [...prefix, index], out));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) paths(item, [...prefix, key], out);
  return out;
}

function deep(depth: number, leaf: Json): Json {
  let value: Json = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

const replacement: fc.Arbitrary<{ kind: string; value?: Json }> = fc.oneof(
  fc.constant({ kind: 'delete' }),
  fc.constant({ kind: 'duplicate' }),
  fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.constant([]), fc.constant({})).map((value) => ({ kind: 'wrong-type', value: value as Json })),
  fc.integer({ min: 1_000, max: 20_000 }).chain((n) => fc.constantFrom('a', '/', ':', '@', 'é', '\u0000', '\u202e').map((c) => ({ kind: 'huge-string', value: c.repeat(n) }))),
  fc.string({ unit: 'binary', maxLength: 64 }).map((value) => ({ kind: 'unicode', value })),
  fc.integer({ min: 10, max: 2_000 }).map((n) => ({ kind: 'deep', value: deep(n, 'x') })),
  fc.constantFrom('Deployment', 'pods/exec', 'DELETE', 'UPDATE', 'x'.repeat(5_000)).map((value) => ({ kind: 'word', value })),
);

export interface Mutation {
  readonly path: (string | number)[];
  readonly kind: string;
  readonly value?: Json;
}

export const mutations: fc.Arbitrary<Mutation[]> = fc.array(
  fc.tuple(fc.nat(), replacement).map(([index, change]) => ({ index, ...change })),
  { minLength: 1, maxLength: 4 },
).map((changes) => {
  // Paths are chosen against the valid review; a path an earlier change removed is simply skipped in apply().
  const all = paths(validReview());
  return changes.map(({ index, kind, value }) => ({ path: all[index % all.length] ?? [], kind, ...(value === undefined ? {} : { value }) }));
});

export function applyMutations(mutations: readonly Mutation[]): Json {
  let root: Json = validReview();
  for (const mutation of mutations) {
    if (mutation.path.length === 0) {
      if (mutation.kind !== 'delete' && mutation.kind !== 'duplicate') root = mutation.value ?? null;
      continue;
    }
    let parent: Json = root;
    for (const key of mutation.path.slice(0, -1)) {
      parent = parent !== null && typeof parent === 'object' ? ((parent as Record<string, Json>)[key] ?? null) : null;
    }
    if (parent === null || typeof parent !== 'object') continue;
    const last = mutation.path[mutation.path.length - 1] as string | number;
    const holder = parent as Record<string | number, Json>;
    if (!(last in holder)) continue;
    if (mutation.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete holder[last];
    } else if (mutation.kind === 'duplicate') {
      if (Array.isArray(parent)) parent.push(structuredClone(parent[Number(last)] ?? null));
      else holder[last] = [holder[last] ?? null, holder[last] ?? null];
    } else {
      holder[last] = mutation.value ?? null;
    }
  }
  return root;
}

export interface FuzzFigures {
  readonly reviews: number;
  readonly answered200: number;
  readonly answered4xx: number;
  readonly patched: number;
  readonly warnings: number;
  readonly longestWarning: number;
  readonly failures: string[];
  readonly rssStartMiB: number;
  readonly rssMaxMiB: number;
  /** RSS after each tenth of the run (MiB): a plateau or a climb. */
  readonly rssByTenth: readonly number[];
  readonly seconds: number;
}

function post(session: ClientHttp2Session, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/mutate', 'content-type': 'application/json' });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
    stream.on('error', reject);
    stream.end(body);
  });
}

function isUnchangedShape(mutations: readonly Mutation[]): boolean {
  // Mutations only inside request.object (below its spec/metadata) keep the review itself valid: those need a 200.
  return mutations.every((m) => m.path[0] === 'request' && m.path[1] === 'object' && m.path.length > 3);
}

/** Checks one answer; returns a failure description, or undefined when every invariant holds. */
export function checkAnswer(sent: Json, mutationList: readonly Mutation[], status: number, text: string): string | undefined {
  const request = (sent as { request?: { uid?: unknown; object?: unknown } } | null)?.request;
  if (status >= 400 && status < 500) {
    return isUnchangedShape(mutationList) ? `4xx ${status} for a review whose shape was intact: ${text.slice(0, 200)}` : undefined;
  }
  if (status !== 200) return `status ${status}: ${text.slice(0, 200)}`;
  const answer = JSON.parse(text) as { apiVersion?: unknown; kind?: unknown; response?: { uid?: unknown; allowed?: unknown; warnings?: unknown; patch?: unknown; patchType?: unknown } };
  if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview') return `not an AdmissionReview: ${text.slice(0, 200)}`;
  const response = answer.response;
  if (response === undefined || response.uid !== request?.uid) return `uid not echoed: ${String(response?.uid).slice(0, 80)}`;
  if (response.allowed !== true) return 'allowed is not true';
  for (const warning of (response.warnings as string[] | undefined) ?? []) {
    if (warning.length > warningMaxLength || !/^[\x20-\x7e]*$/u.test(warning)) return `warning of ${warning.length} characters or not ASCII: ${JSON.stringify(warning.slice(0, 200))}`;
  }
  if (response.patch !== undefined) {
    if (response.patchType !== 'JSONPatch') return 'patch without patchType JSONPatch';
    const patch = JSON.parse(Buffer.from(typeof response.patch === 'string' ? response.patch : '', 'base64').toString('utf8')) as Operation[];
    try {
      fastJsonPatch.applyPatch(structuredClone(request?.object), patch, true, false);
    } catch (error) {
      return `patch does not apply: ${String(error).slice(0, 200)}`;
    }
    for (const operation of patch) {
      if (operation.op === 'replace' && operation.path.endsWith('/image')) {
        const image = String((operation as { value: unknown }).value);
        try {
          parseReference(image);
        } catch (error) {
          return `patched image ${image.slice(0, 100)} is not a valid reference: ${String(error).slice(0, 100)}`;
        }
        if (!image.startsWith(`${mirror}/`)) return `patched image ${image.slice(0, 100)} is not on the mirror`;
      }
    }
  }
  return undefined;
}

/** Serves the webhook over TLS on loopback and sends `count` mutated reviews, `concurrency` at a time. */
export async function runFuzz(count: number, options: { seed?: number; concurrency?: number } = {}): Promise<FuzzFigures> {
  const certs = generateCertificateSet({ service: 'mirrorhook', namespace: 'fuzz', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const config = validateConfig({ mirror: { registry: mirror }, sources: {}, swap: 'always', copy: 'none' }, 'fuzz');
  const server = await serve({ config, host: '127.0.0.1', port: 0, tls: { pair: certs.serving }, logger: false, shutdownDelayMs: 0 });
  const session = connect(server.url, { ca: certs.ca.cert });
  // Reviews are generated 1,000 at a time (chunk k with seed + k), so the process's RSS is the server's and the
  // client's, not 100,000 pre-generated reviews; the first 1,000 are those of one run with the seed.
  const chunkSize = 1_000;
  let chunk: Mutation[][] = [];
  let produced = 0;
  const nextSample = (): Mutation[] | undefined => {
    if (produced >= count) return undefined;
    const index = produced % chunkSize;
    if (index === 0) {
      const seed = options.seed === undefined ? undefined : options.seed + produced / chunkSize;
      chunk = fc.sample(mutations, { numRuns: Math.min(chunkSize, count - produced), ...(seed === undefined ? {} : { seed }) });
    }
    produced++;
    return chunk[index];
  };
  const figures = { reviews: 0, answered200: 0, answered4xx: 0, patched: 0, warnings: 0, longestWarning: 0, failures: [] as string[] };
  const rssStartMiB = process.memoryUsage().rss / 2 ** 20;
  let rssMaxMiB = rssStartMiB;
  const rssByTenth: number[] = [];
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let mutationList = nextSample(); mutationList !== undefined; mutationList = nextSample()) {
      const sent = applyMutations(mutationList);
      const { status, body } = await post(session, JSON.stringify(sent));
      figures.reviews++;
      if (status === 200) {
        figures.answered200++;
        const response = (JSON.parse(body) as { response?: { patch?: string; warnings?: string[] } }).response;
        if (response?.patch !== undefined) figures.patched++;
        for (const warning of response?.warnings ?? []) {
          figures.warnings++;
          figures.longestWarning = Math.max(figures.longestWarning, warning.length);
        }
      } else if (status >= 400 && status < 500) figures.answered4xx++;
      const failure = checkAnswer(sent, mutationList, status, body);
      if (failure !== undefined && figures.failures.length < 20) figures.failures.push(`${failure} (mutations ${JSON.stringify(mutationList).slice(0, 300)})`);
      if (figures.reviews % 500 === 0) rssMaxMiB = Math.max(rssMaxMiB, process.memoryUsage().rss / 2 ** 20);
      if (figures.reviews % Math.max(1, Math.floor(count / 10)) === 0) rssByTenth.push(process.memoryUsage().rss / 2 ** 20);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
    // The server still answers a plain valid review afterwards.
    const after = await post(session, JSON.stringify(validReview()));
    const failure = checkAnswer(validReview(), [], after.status, after.body);
    if (failure !== undefined) figures.failures.push(`after the fuzz run: ${failure}`);
  } finally {
    session.close();
    await server.close();
  }
  rssMaxMiB = Math.max(rssMaxMiB, process.memoryUsage().rss / 2 ** 20);
  return { ...figures, rssStartMiB, rssMaxMiB, rssByTenth, seconds: (performance.now() - started) / 1000 };
}
