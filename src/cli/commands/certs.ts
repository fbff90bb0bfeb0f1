import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { generateCertificateSet, injectCaBundle, writeCertificateFiles } from '../../certs/index.js';
import { localDnsNames, localIpAddresses } from '../../certs/local.js';
import { MirrorhookError } from '../../errors.js';
import { loadKubeConfig } from '../../kube/client.js';
import { type Command, commonOptions, integerFlag, parseCommandArgs } from '../command.js';

export const certsCommand: Command = {
  name: 'certs',
  summary: "generate the webhook's CA and serving certificate; inject the CA into the webhook configuration",
  usage: `Usage:
  mirrorhook certs generate [--service NAME] [--namespace NS] [--dns NAME]... [--ip ADDR]... [--days N] [--out DIR]
  mirrorhook certs inject --webhook NAME [--ca-file FILE] [--kubeconfig FILE]

generate  writes ca.crt, tls.crt and tls.key (mode 0600) into --out (default certs/). The serving
          certificate covers NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local, localhost,
          127.0.0.1, ::1 and the extras; mirrorhook serve without --cert serves this set.
          Defaults: --service mirrorhook --namespace mirrorhook --days 365.
inject    puts the CA (default certs/ca.crt) into the caBundle of every webhook of the
          MutatingWebhookConfiguration NAME, through the current kubeconfig context.

Examples:
  mirrorhook certs generate --dns mirrorhook.example.com --ip 10.0.0.5
  mirrorhook certs inject --webhook mirrorhook`,
  async run(argv, io) {
    const [subcommand, ...rest] = argv;
    if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
      io.stdout.write(`${this.usage}\n`);
      return subcommand === undefined ? 2 : 0;
    }
    if (subcommand === 'generate') return generate(rest, io);
    if (subcommand === 'inject') return inject(rest, io);
    throw new MirrorhookError('MH_USAGE', `unknown certs subcommand "${subcommand}": generate or inject`);
  },
};

async function generate(argv: readonly string[], io: Parameters<Command['run']>[1]): Promise<number> {
  const { values, positionals } = parseCommandArgs(certsCommand, argv, {
    ...commonOptions,
    service: { type: 'string' },
    namespace: { type: 'string' },
    dns: { type: 'string', multiple: true },
    ip: { type: 'string', multiple: true },
    days: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${certsCommand.usage}\n`);
    return 0;
  }
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

async function inject(argv: readonly string[], io: Parameters<Command['run']>[1]): Promise<number> {
  const { values, positionals } = parseCommandArgs(certsCommand, argv, {
    ...commonOptions,
    webhook: { type: 'string' },
    'ca-file': { type: 'string' },
    kubeconfig: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`${certsCommand.usage}\n`);
    return 0;
  }
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


