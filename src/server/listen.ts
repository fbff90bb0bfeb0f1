import type { Server as TlsServer } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { checkServingPair, readServingPair } from '../certs/files.js';
import { type PemPair, certificateNotAfter } from '../certs/generate.js';
import type { Config } from '../config/schema.js';
import { MirrorhookError, describeError } from '../errors.js';
import { createMetrics } from '../metrics/metrics.js';
import { type MirroringRuntime, createMirroring, needsMirroring } from '../mirroring/index.js';
import { parseMirrorRegistry } from '../mapping/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { SyncStatusCache } from '../status/sync.js';
import { buildApp } from './app.js';

export interface ServeOptions {
  readonly config: Config;
  readonly host: string;
  readonly port: number;
  /**
   * Where the serving pair comes from: files (re-read and reloaded when they change), a pair held in memory, or
   * a source asked at every reload interval (self-managed certificates).
   */
  readonly tls:
    | { readonly certPath: string; readonly keyPath: string }
    | { readonly pair: PemPair }
    | { readonly initial: PemPair; readonly source: () => Promise<PemPair | undefined> };
  readonly logger: FastifyBaseLogger | false;
  /** How often the certificate files are checked for a change (Secret volume updates swap them in place). */
  readonly reloadIntervalMs?: number;
  /** How long /readyz reports 503 before the listener closes, so that endpoints drop this replica first. */
  readonly shutdownDelayMs?: number;
  /** Environment for registry credentials (DOCKER_CONFIG, HOME). */
  readonly env?: NodeJS.ProcessEnv;
  /** How long shutdown waits for background copies already running before interrupting them (default 20 s). */
  readonly copyDrainMs?: number;
}

export interface RunningServer {
  /** `https://host:port` as bound (port 0 resolved). */
  readonly url: string;
  readonly port: number;
  /** Re-reads the certificate files now; resolves true when a new pair was installed. */
  reloadCertificate(): Promise<boolean>;
  /** Graceful stop: not ready, wait the shutdown delay, finish in-flight requests, close. */
  close(): Promise<void>;
}

const silentLogger = pino({ level: 'silent' });

interface ClientSessionLike {
  close(): void;
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** Starts the webhook over HTTPS and keeps its certificate current. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const tls = options.tls;
  const source: (() => Promise<PemPair | undefined>) | undefined =
    'certPath' in tls ? () => readServingPair(tls.certPath, tls.keyPath) : 'source' in tls ? tls.source : undefined;
  let pair = 'certPath' in tls ? await readServingPair(tls.certPath, tls.keyPath) : 'pair' in tls ? tls.pair : tls.initial;
  const metrics = createMetrics();
  let runtime: MirroringRuntime | undefined;
  if (needsMirroring(options.config)) {
    const log = options.logger === false ? silentLogger : options.logger;
    runtime = await createMirroring(options.config, metrics, log, { env: options.env ?? process.env });
    log.info({ cluster: runtime.cluster }, runtime.cluster ? 'background mirroring on, with pull secrets, copy Leases and Events' : 'background mirroring on, without a Kubernetes API');
  }
  // The status page's sync records, read through the mirroring client, or a read-only one when the webhook has none.
  let syncClient: RegistryClient | undefined;
  let syncStatus: SyncStatusCache | undefined;
  if (options.config.status.enabled && options.config.sync.length > 0) {
    const [{ readSyncStatus, uncheckedSyncStatus }, { SyncStatusCache }] = await Promise.all([import('../sync/record-store.js'), import('../status/sync.js')]);
    const mirror = parseMirrorRegistry(options.config.mirror.registry);
    const client = runtime?.client ?? (syncClient = await (await import('../report/mirror.js')).copyClientForMirror(options.config, options.env ?? process.env, new AbortController().signal));
    syncStatus = new SyncStatusCache(() => readSyncStatus(client, mirror), uncheckedSyncStatus(mirror));
  }
  const webhook = buildApp({ config: options.config, logger: options.logger, tls: pair, metrics, ...(runtime ? { mirroring: runtime.mirroring } : {}), ...(syncStatus ? { syncStatus } : {}) });
  const { app } = webhook;
  const sessions = new Set<ClientSessionLike>();
  metrics.certificateNotAfter.set(certificateNotAfter(pair.cert).getTime() / 1000);

  try {
    await app.listen({ host: options.host, port: options.port });
    // The API server keeps HTTP/2 sessions open between calls; closing the listener alone would wait for them
    // to time out (72 s), past a Pod's termination grace period. Track them to close them on shutdown.
    app.server.on('session', (session: ClientSessionLike) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
  } catch (error) {
    throw new MirrorhookError('MH_SERVER_LISTEN', `${options.host}:${options.port}: ${describeError(error)}`, { cause: error });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  const reloadCertificate = async (): Promise<boolean> => {
    if (source === undefined) return false;
    let next: PemPair | undefined;
    try {
      next = await source();
      if (next !== undefined) checkServingPair(next, 'the new serving certificate');
    } catch (error) {
      // A half-rotated pair (new cert, old key) is normal for a moment: keep serving the old one and retry.
      metrics.certificateReloads.inc({ result: 'error' });
      app.log.warn({ err: error }, 'certificate files changed but are not usable yet; still serving the previous pair');
      return false;
    }
    if (next === undefined || (next.cert === pair.cert && next.key === pair.key)) return false;
    (app.server as unknown as TlsServer).setSecureContext({ cert: next.cert, key: next.key, minVersion: 'TLSv1.2' });
    pair = next;
    metrics.certificateReloads.inc({ result: 'ok' });
    metrics.certificateNotAfter.set(certificateNotAfter(pair.cert).getTime() / 1000);
    app.log.info({ notAfter: certificateNotAfter(pair.cert).toISOString() }, 'serving certificate reloaded');
    return true;
  };

  let reloading = false;
  const timer =
    source === undefined
      ? undefined
      : setInterval(() => {
          if (reloading) return;
          reloading = true;
          reloadCertificate()
            .catch((error: unknown) => app.log.error({ err: error }, 'certificate reload failed'))
            .finally(() => {
              reloading = false;
            });
        }, options.reloadIntervalMs ?? 10_000);
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `https://${urlHost}:${port}`,
    port,
    reloadCertificate,
    close() {
      closing ??= (async () => {
        if (timer !== undefined) clearInterval(timer);
        webhook.setReady(false);
        const delay = options.shutdownDelayMs ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        // Graceful: each session finishes its in-flight streams, takes no new ones, then closes; a session that
        // does not finish within a few seconds is destroyed.
        for (const session of sessions) session.close();
        const stragglers = setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, 3_000);
        stragglers.unref();
        await app.close();
        clearTimeout(stragglers);
        if (runtime !== undefined) {
          await runtime.close(options.copyDrainMs ?? 20_000);
        }
        await syncClient?.close();
      })();
      return closing;
    },
  };
}
