/**
 * Flags more than one command takes, each declared once (ADR 0210). A command that words one differently
 * (what "the registry" is for it) passes its wording through withHelp; the name, short form, type and value
 * placeholder stay the same everywhere.
 */
import { flag } from './spec.js';

/** `-o, --output text|json`; parseOutputFormat reads it. */
export const outputFlag = flag({ name: 'output', short: 'o', type: 'string', value: 'FMT', help: 'text or json' });

export const kubeconfigFlag = flag({
  name: 'kubeconfig',
  type: 'string',
  value: 'FILE',
  help: 'kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)',
});

/** The Kubernetes API and the namespace to read (pulls, verify). */
export const kubeFlags = [
  flag({ name: 'namespace', short: 'n', type: 'string', value: 'NS', help: 'only this namespace (default: every namespace)' }),
  kubeconfigFlag,
] as const;

export const authfileFlag = flag({
  name: 'authfile',
  type: 'string',
  value: 'FILE',
  help: 'Docker config.json or a Kubernetes .dockerconfigjson (default credentials.dockerConfig,\nelse ~/.docker/config.json)',
});
export const insecureFlag = flag({ name: 'insecure', type: 'boolean', help: 'plain HTTP' });
export const caFileFlag = flag({ name: 'ca-file', type: 'string', value: 'FILE', help: "extra CA for the registry's TLS" });

/** Credentials and TLS for one registry (ls, push, pull); userPass reads the pair. */
export const registryAccessFlags = [
  flag({
    name: 'username',
    short: 'u',
    type: 'string',
    value: 'U',
    help: 'with --password: Basic credentials for the registry (else the Docker config, else anonymous)',
  }),
  flag({ name: 'password', short: 'p', type: 'string', value: 'P', help: 'the password for --username' }),
  authfileFlag,
  caFileFlag,
  insecureFlag,
] as const;

/** Credentials and TLS of a source → mirror transfer (copy, sync); copyAccessSettings reads them. */
export const copyAccessFlags = [
  flag({ name: 'src-creds', type: 'string', value: 'U:P', help: 'credentials for the source registry' }),
  flag({ name: 'dest-creds', type: 'string', value: 'U:P', help: 'credentials for the destination registry' }),
  authfileFlag,
  flag({ ...insecureFlag, help: 'plain HTTP (loopback registries always use it unless they have a CA file)' }),
  flag({ ...caFileFlag, help: 'extra CA for the destination (default: mirror.caFile)' }),
  flag({ name: 'src-ca-file', type: 'string', value: 'FILE', help: 'extra CA for the source' }),
] as const;

export const dryRunFlag = flag({ name: 'dry-run', type: 'boolean', help: 'plan only: show what would be copied, write nothing' });

/** `-j, --jobs N`, parsed by each command against its own bounds. */
export const jobsFlag = flag({ name: 'jobs', short: 'j', type: 'string', value: 'N', help: 'work in flight at once (default 4)' });

export const clusterFlag = flag({ name: 'cluster', type: 'boolean', help: 'read the cluster instead of files' });

export const fromLogsFlag = flag({
  name: 'from-logs',
  type: 'string',
  value: 'FILE',
  help: 'a `gcloud logging read --format=json` export, or BigQuery rows (bq query\n--format=json, or JSON lines) with jsonPayload.message',
});

export const fromAuditLogsFlag = flag({
  name: 'from-audit-logs',
  type: 'string',
  value: 'FILE',
  help: 'exported Binary Authorization dry-run audit log entries (gcloud logging read --format=json)',
});
