import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { MirrorhookError } from '../../errors.js';
import { type CommandIo, integerFlag } from '../command.js';
import { caFileFlag, kubeconfigFlag } from '../flags.js';
import { type ParsedArgs, defineCommand, flag, subcommand } from '../spec.js';

const generateFlags = [
  flag({ name: 'service', type: 'string', value: 'NAME', help: 'the webhook Service the certificate is for (default mirrorhook)' }),
  flag({ name: 'namespace', type: 'string', value: 'NS', help: 'the namespace of that Service (default mirrorhook)' }),
  flag({ name: 'dns', type: 'string', multiple: true, value: 'NAME', help: 'one more DNS name the certificate covers (repeatable)' }),
  flag({ name: 'ip', type: 'string', multiple: true, value: 'ADDR', help: 'one more IP address the certificate covers (repeatable)' }),
  flag({ name: 'days', type: 'string', value: 'N', help: 'validity in days, 1 to 3650 (default 365)' }),
  flag({ name: 'out', type: 'string', value: 'DIR', help: 'the folder to write into (default certs/)' }),
] as const;

const injectFlags = [
  flag({ name: 'webhook', type: 'string', value: 'NAME', help: 'the MutatingWebhookConfiguration' }),
  { ...caFileFlag, help: 'the CA to inject (default certs/ca.crt)' },
  kubeconfigFlag,
] as const;

export const certsCommand = defineCommand({
  name: 'certs',
  summary: "generate the webhook's CA and serving certificate; inject the CA into the webhook configuration",
  synopsis: [
    'mirrorhook certs generate [--service NAME] [--namespace NS] [--dns NAME]... [--ip ADDR]... [--days N] [--out DIR]',
    'mirrorhook certs inject --webhook NAME [--ca-file FILE] [--kubeconfig FILE]',
  ],
  subcommands: [
    subcommand({
      name: 'generate',
      description: `writes ca.crt, tls.crt and tls.key (mode 0600) into --out (default certs/). The serving
certificate covers NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local, localhost,
127.0.0.1, ::1 and the extras; mirrorhook serve without --cert serves this set.
Defaults: --service mirrorhook --namespace mirrorhook --days 365.`,
      flags: generateFlags,
      run: (args, io) => generate(args, io),
    }),
    subcommand({
      name: 'inject',
      description: `puts the CA (default certs/ca.crt) into the caBundle of every webhook of the
MutatingWebhookConfiguration NAME, through the current kubeconfig context.`,
      flags: injectFlags,
      run: (args, io) => inject(args, io),
    }),
  ],
  examples: ['mirrorhook certs generate --dns mirrorhook.example.com --ip 10.0.0.5', 'mirrorhook certs inject --webhook mirrorhook'],
});

async function generate({ values, positionals }: ParsedArgs<typeof generateFlags>, io: CommandIo): Promise<number> {
  if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `certs generate takes no arguments, got "${positionals.join(' ')}"`);
  const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const service = values.service ?? 'mirrorhook';
  const namespace = values.namespace ?? 'mirrorhook';
  for (const [flag, value] of [['--service', service], ['--namespace', namespace]] as const) {
    if (!dnsLabel.test(value) || value.length > 63) {
      throw new MirrorhookError('MH_USAGE', `${flag} "${value}" is not a DNS label (lowercase letters, digits, '-', at most 63)`);
    }
  }
  const ipAddresses = values.ip ?? [];
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new MirrorhookError('MH_USAGE', `--ip "${ip}" is not an IPv4 or IPv6 address`);
  }
  const days = integerFlag('--days', values.days, 365, 1, 3650);
  // Loaded here, not at start-up: `certs --help` needs neither node-forge nor the Kubernetes client (ADR 0160).
  const [{ generateCertificateSet, writeCertificateFiles }, { localDnsNames, localIpAddresses }] = await Promise.all([
    import('../../certs/index.js'),
    import('../../certs/local.js'),
  ]);
  // The local names too: the same files serve `mirrorhook serve` on this machine (curl https://localhost:8443).
  const set = generateCertificateSet({
    service,
    namespace,
    dnsNames: [...localDnsNames, ...(values.dns ?? [])],
    ipAddresses: [...localIpAddresses, ...ipAddresses],
    validityDays: days,
  });
  const paths = await writeCertificateFiles(values.out ?? 'certs', set);
  io.stdout.write(`wrote ${paths.ca}, ${paths.cert}, ${paths.key} (valid ${days} days)\n`);
  return 0;
}

async function inject({ values, positionals }: ParsedArgs<typeof injectFlags>, io: CommandIo): Promise<number> {
  if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `certs inject takes no arguments, got "${positionals.join(' ')}"`);
  if (values.webhook === undefined) throw new MirrorhookError('MH_USAGE', 'certs inject needs --webhook NAME (the MutatingWebhookConfiguration)');
  const caFile = values['ca-file'] ?? 'certs/ca.crt';
  let caPem: string;
  try {
    caPem = await readFile(caFile, 'utf8');
  } catch (error) {
    throw new MirrorhookError('MH_CERT_READ', `${caFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw new MirrorhookError('MH_CERT_INVALID', `${caFile} holds no PEM certificate`);
  try {
    new X509Certificate(caPem);
  } catch (error) {
    throw new MirrorhookError('MH_CERT_INVALID', `${caFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const [k8s, { loadKubeConfig }, { injectCaBundle }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('../../kube/client.js'),
    import('../../certs/inject.js'),
  ]);
  const kubeConfig = loadKubeConfig(values.kubeconfig, io.env);
  const api = kubeConfig.makeApiClient(k8s.AdmissionregistrationV1Api);
  const result = await injectCaBundle(api, values.webhook, caPem);
  io.stdout.write(
    result.changed
      ? `injected ${caFile} into ${result.webhooks} webhook(s) of MutatingWebhookConfiguration ${values.webhook}\n`
      : `MutatingWebhookConfiguration ${values.webhook} already carries ${caFile}; nothing changed\n`,
  );
  return 0;
}


