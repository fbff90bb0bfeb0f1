/**
 * Wires background mirroring for `serve`: one RegistryClient (pools, auth, retries) shared by the catalog's
 * HEADs, the tag refresh and the copy engine; metrics and logs on every copy.
 */
import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { copyImages } from '../copy/executor.js';
import { MirrorhookError, describeError } from '../errors.js';
import { parseMirrorRegistry } from '../mapping/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { formatReference } from '../reference/index.js';
import { RegistryClient, type RegistryHostOptions, dockerConfigProvider } from '../registry/index.js';
import { MirrorCatalog } from './catalog.js';
import { type CopyJob, type CopyOutcome, CopyQueue } from './queue.js';
import { Mirroring } from './service.js';

export { MirrorCatalog } from './catalog.js';
export type { Presence } from './catalog.js';
export { CopyQueue } from './queue.js';
export type { CopyJob, CopyOutcome } from './queue.js';
export { Mirroring } from './service.js';

/** True when the configuration needs the mirror catalog or copying at all. */
export function needsMirroring(config: Config): boolean {
  return config.swap === 'exists' || config.copy !== 'none';
}

export interface MirroringRuntime {
  readonly mirroring: Mirroring;
  close(): Promise<void>;
}

export function createMirroring(config: Config, metrics: Metrics, log: FastifyBaseLogger, env: NodeJS.ProcessEnv): MirroringRuntime {
  const mirror = parseMirrorRegistry(config.mirror.registry);
  let ca: string | undefined;
  if (config.mirror.caFile !== '') {
    try {
      ca = readFileSync(config.mirror.caFile, 'utf8');
    } catch (error) {
      throw new MirrorhookError('MH_CONFIG_UNREADABLE', `mirror.caFile ${config.mirror.caFile}: ${describeError(error)}`);
    }
  }
  const mirrorHost: RegistryHostOptions = { ...(config.mirror.insecure ? { insecure: true } : {}), ...(ca === undefined ? {} : { ca }) };
  const client = new RegistryClient({
    credentials:
      config.credentials.dockerConfig === '' ? dockerConfigProvider({ env }) : dockerConfigProvider({ env, file: config.credentials.dockerConfig }),
    hostOptions: (host) => (host === mirror.domain ? mirrorHost : {}),
    // The catalog asks on the admission path's behalf: a mirror that does not answer must not be retried for long.
    retry: { attempts: 3, maxDelayMs: 2_000 },
  });
  const catalog = new MirrorCatalog(client, {
    presentTtlMs: config.catalog.presentTtlSeconds * 1000,
    absentTtlMs: config.catalog.absentTtlSeconds * 1000,
    onLookup: (result, state) => metrics.catalogLookups.inc({ result, state }),
    onError: (target, error) => log.warn({ target, error: describeError(error) }, 'mirror lookup failed'),
  });
  const copy = async (job: CopyJob): Promise<CopyOutcome> => {
    const started = Date.now();
    const [result] = await copyImages(client, [{ source: job.source, target: job.target }], { jobs: 4, signatures: true });
    const durationMs = Date.now() - started;
    if (result === undefined || result.status === 'failed' || result.status === 'planned') {
      return { status: 'failed', code: result?.error?.code ?? 'MH_COPY_FAILED', message: result?.error?.message ?? 'no result', durationMs };
    }
    return { status: result.status, digest: result.digest, bytes: result.bytes, durationMs };
  };
  const queue = new CopyQueue(copy, {
    concurrency: config.copyJobs,
    onDepth: (depth) => metrics.copyQueueDepth.set(depth),
    onSettled: (job, outcome, attempt) => {
      const registry = job.source.domain;
      metrics.copies.inc({ registry, status: outcome.status });
      metrics.copyDuration.observe({ registry }, outcome.durationMs / 1000);
      const fields = { source: formatReference(job.source), target: formatReference(job.target), attempt, durationMs: outcome.durationMs };
      if (outcome.status === 'failed') {
        log.warn({ ...fields, code: outcome.code, error: outcome.message }, 'background copy failed');
      } else {
        metrics.copyBytes.inc({ registry }, outcome.bytes);
        log.info({ ...fields, status: outcome.status, digest: outcome.digest, bytes: outcome.bytes }, 'background copy done');
      }
    },
  });
  const mirroring = new Mirroring({
    config,
    catalog,
    queue,
    sources: client,
    log: (level, message, fields) => log[level](fields, message),
  });
  return {
    mirroring,
    async close() {
      await mirroring.close();
      await client.close();
    },
  };
}

