import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { PemPair } from '../../certs/generate.js';
import type { ManagedCertificates } from '../../certs/manage.js';
import { loadConfig } from '../../config/load.js';
import { MirrorhookError, describeError } from '../../errors.js';
import { formatMirrorRegistry, parseMirrorRegistry } from '../../mapping/index.js';
import type { serve } from '../../server/listen.js';
import { integerFlag } from '../command.js';
import { kubeconfigFlag } from '../flags.js';
import { configFlag, defineCommand, flag } from '../spec.js';
import { parseDuration } from '../duration.js';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'run the admission webhook over HTTPS (POST /mutate, /audit; GET /healthz, /readyz, /metrics)',
  handlesStop: true,
  synopsis: ['mirrorhook serve [--config FILE] [--host H] [--port P] [--cert FILE --key FILE] [options]'],
  description: `Runs the mutating admission webhook. Without --cert/--key it serves the set in the --ca-out folder
(ca.crt, tls.crt, tls.key, as certs generate writes it) when that covers localhost and is not expiring;
else it generates a self-signed set (localhost, 127.0.0.1, ::1, this host, the mirrorhook Service) and
writes it there when the folder holds none of the three files. Files it does not use are never replaced:
the new CA then goes to a temporary folder, named in the log. Without a config file it runs the built-in
default (mirror localhost:5000/mirror, swap always). Certificate files are re-read when they change.`,
  flags: [
    configFlag,
    flag({ name: 'host', type: 'string', value: 'H', help: 'address to listen on (default 0.0.0.0)' }),
    flag({ name: 'port', type: 'string', value: 'P', help: 'port (default 8443)' }),
    flag({ name: 'cert', type: 'string', value: 'FILE', help: 'serving certificate (PEM); with --key' }),
    flag({ name: 'key', type: 'string', value: 'FILE', help: 'its private key (PEM)' }),
    flag({ name: 'ca-out', type: 'string', value: 'FILE', help: 'the CA of the set used without --cert (default certs/ca.crt; tls.crt and tls.key\nbeside it)' }),
    flag({ name: 'log-level', type: 'string', value: 'L', help: 'fatal, error, warn, info (default), debug, trace, silent' }),
    flag({ name: 'reload-interval', type: 'string', value: 'S', help: 'seconds between checks of the certificate files or Secret (default 10)' }),
    flag({
      name: 'manage-certs',
      type: 'boolean',
      help: 'keep a CA and serving certificate in a Secret, the caBundle in step, and rotate\nthem before expiry (replicas agree through a Lease); needs a Kubernetes API',
    }),
    flag({ name: 'cert-secret', type: 'string', value: 'NAME', help: 'the Secret for --manage-certs (default mirrorhook-certs)' }),
    flag({ name: 'webhook-config', type: 'string', value: 'NAME', help: 'the MutatingWebhookConfiguration whose caBundle to keep (default mirrorhook)' }),
    // Not kubeFlags' --namespace: this one names where the Secret lives, and has no -n.
    flag({ name: 'namespace', type: 'string', value: 'NS', help: 'namespace of the Secret and Lease (default: POD_NAMESPACE, else mirrorhook)' }),
    flag({ name: 'service', type: 'string', value: 'NAME', help: 'Service name the certificate covers (default mirrorhook); --dns/--ip add names' }),
    flag({ name: 'dns', type: 'string', multiple: true, value: 'NAME', help: 'with --manage-certs: one more DNS name the certificate covers (repeatable)' }),
    flag({ name: 'ip', type: 'string', multiple: true, value: 'ADDR', help: 'with --manage-certs: one more IP address the certificate covers (repeatable)' }),
    flag({ name: 'cert-validity', type: 'string', value: 'D', help: 'serving certificate lifetime: 90d, 12h, 30m or 45s (default 90d; the CA lives 10x)' }),
    { ...kubeconfigFlag, help: 'kubeconfig for --manage-certs (default: in-cluster, else KUBECONFIG)' },
    flag({
      name: 'shutdown-delay',
      type: 'string',
      value: 'S',
      help: 'seconds /readyz fails before the listener closes on SIGTERM (default 5 in a\nKubernetes Pod, 0 elsewhere)',
    }),
  ],
  examples: [
    'mirrorhook certs generate --out certs/',
    'mirrorhook serve --cert certs/tls.crt --key certs/tls.key',
    'mirrorhook serve                                       # no flags: serves the certs/ set above',
  ],
  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `serve takes no arguments, got "${positionals.join(' ')}"`);
    if (values['manage-certs'] === true && (values.cert !== undefined || values.key !== undefined)) {
      throw new MirrorhookError('MH_USAGE', '--manage-certs and --cert/--key exclude each other: the Secret is the certificate');
    }
    if ((values.cert === undefined) !== (values.key === undefined)) {
      throw new MirrorhookError('MH_USAGE', '--cert and --key go together: give both, or neither for a generated pair');
    }
    const port = integerFlag('--port', values.port, 8443, 0, 65_535);
    const reloadSeconds = integerFlag('--reload-interval', values['reload-interval'], 10, 1, 3600);
    // The delay lets Kubernetes take this Pod out of the Service's endpoints before the listener closes; outside a
    // cluster nothing routes by readiness, so Ctrl-C or SIGTERM stops at once (ADR 0110).
    const inCluster = io.env.KUBERNETES_SERVICE_HOST !== undefined;
    const shutdownSeconds = integerFlag('--shutdown-delay', values['shutdown-delay'], inCluster ? 5 : 0, 0, 300);
    const level = values['log-level'] ?? 'info';
    if (!(logLevels as readonly string[]).includes(level)) {
      throw new MirrorhookError('MH_USAGE', `--log-level must be one of ${logLevels.join(', ')}`);
    }
    // Asynchronous writes: the decision log line must not block the admission path on a slow stdout reader.
    // The server, its logger and certificate generation load only now: `serve --help` and a bad flag answer at
    // once (ADR 0160).
    const [{ pino }, { serve: listen }, { localServingPair }] = await Promise.all([
      import('pino'),
      import('../../server/listen.js'),
      import('../../certs/local.js'),
    ]);
    const destination = pino.destination({ dest: 1, sync: false });
    const logger = pino({ level, base: { service: 'mirrorhook' } }, destination);

    const { config, source } = await loadConfig(values.config);
    const mirror = formatMirrorRegistry(parseMirrorRegistry(config.mirror.registry));
    logger.info({ config: source ?? 'built-in default', mirror, layout: config.mirror.layout, swap: config.swap }, 'configuration loaded');

    let tls: Parameters<typeof serve>[0]['tls'];
    if (values['manage-certs'] === true) {
      const validitySeconds = parseDuration(values['cert-validity'] ?? '90d', '--cert-validity') / 1000;
      if (validitySeconds < 30) throw new MirrorhookError('MH_USAGE', '--cert-validity must be at least 30s');
      const manager = await managedCertificates({
        kubeconfig: values.kubeconfig,
        env: io.env,
        namespace: values.namespace ?? io.env.POD_NAMESPACE ?? 'mirrorhook',
        secretName: values['cert-secret'] ?? 'mirrorhook-certs',
        webhookConfigurationName: values['webhook-config'] ?? 'mirrorhook',
        service: values.service ?? 'mirrorhook',
        dnsNames: values.dns ?? [],
        ipAddresses: values.ip ?? [],
        validitySeconds,
        holder: io.env.POD_NAME ?? `${hostname()}-${process.pid}`,
        log: (message, fields) => logger.info(fields ?? {}, message),
      });
      const initial = await firstPair(() => manager.check(), io.stopSignal);
      logger.info({ secret: values['cert-secret'] ?? 'mirrorhook-certs' }, 'serving the self-managed certificate');
      tls = {
        initial,
        source: () =>
          manager.check().catch((error: unknown) => {
            logger.warn({ error: describeError(error) }, 'certificate check failed; serving the current pair');
            return undefined;
          }),
      };
    } else if (values.cert !== undefined && values.key !== undefined) {
      tls = { certPath: values.cert, keyPath: values.key };
    } else {
      const local = await localServingPair({ caPath: resolve(io.cwd, values['ca-out'] ?? 'certs/ca.crt'), extraDnsNames: [hostname()] });
      if (local.kind === 'reused') {
        logger.info({ cert: local.certPath, ca: local.caPath }, `serving the certificate set on disk; verify with: curl --cacert ${local.caPath}`);
        tls = { certPath: local.certPath, keyPath: local.keyPath };
      } else {
        if (local.kept !== undefined) logger.warn({ reason: local.kept }, 'certificate files on disk left as they are, not served');
        if (local.caPath === undefined) logger.warn({ ca: local.ca, err: local.writeError }, 'self-signed certificate generated; the CA could not be written, here it is');
        else logger.info({ ca: local.caPath }, `self-signed certificate generated; verify with: curl --cacert ${local.caPath}`);
        tls = { pair: local.pair };
      }
    }

    const server = await listen({
      config,
      host: values.host ?? '0.0.0.0',
      port,
      tls,
      logger,
      reloadIntervalMs: reloadSeconds * 1000,
      shutdownDelayMs: shutdownSeconds * 1000,
      env: io.env,
    });
    logger.info({ url: server.url }, 'mirrorhook webhook listening');

    await new Promise<void>((done) => {
      if (io.stopSignal.aborted) done();
      else io.stopSignal.addEventListener('abort', () => done(), { once: true });
    });
    logger.info({ signal: String(io.stopSignal.reason), delaySeconds: shutdownSeconds }, 'shutting down: readiness off, draining');
    await server.close();
    logger.info('stopped');
    destination.flushSync();
    return 0;
  },
});

interface ManagedOptions {
  readonly kubeconfig: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly namespace: string;
  readonly secretName: string;
  readonly webhookConfigurationName: string;
  readonly service: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly validitySeconds: number;
  readonly holder: string;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** The Kubernetes client is loaded only here: a webhook without --manage-certs does not carry it. */
async function managedCertificates(options: ManagedOptions): Promise<ManagedCertificates> {
  const [k8s, { ManagedCertificates }, { loadKubeConfig }, { LeaseLock }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('../../certs/manage.js'),
    import('../../kube/client.js'),
    import('../../kube/lease.js'),
  ]);
  const kubeConfig = loadKubeConfig(options.kubeconfig, options.env);
  return new ManagedCertificates({
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    admission: kubeConfig.makeApiClient(k8s.AdmissionregistrationV1Api),
    lock: new LeaseLock(kubeConfig.makeApiClient(k8s.CoordinationV1Api), { namespace: options.namespace, holder: options.holder }),
    namespace: options.namespace,
    secretName: options.secretName,
    webhookConfigurationName: options.webhookConfigurationName,
    certificate: { service: options.service, dnsNames: options.dnsNames, ipAddresses: options.ipAddresses },
    servingValiditySeconds: options.validitySeconds,
    log: options.log,
  });
}

/** The first serving pair: created here, or by the replica holding the Lease; waits up to a minute for it. */
async function firstPair(check: () => Promise<PemPair | undefined>, stop: AbortSignal): Promise<PemPair> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 60 && !stop.aborted; attempt += 1) {
    try {
      const pair = await check();
      if (pair !== undefined) return pair;
    } catch (error) {
      lastError = error;
      if (error instanceof MirrorhookError) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const { kubeError } = await import('../../kube/client.js');
  throw kubeError(lastError ?? new Error('no certificate appeared in the Secret'), 'self-managed certificates');
}
