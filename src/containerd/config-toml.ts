import { stringify } from 'yaml';
import type { MirrorEndpoint } from './endpoint.js';
import { tomlString } from './hosts-toml.js';

export interface MirrorEntry {
  readonly host: string;
  readonly endpoint: MirrorEndpoint;
}

/**
 * The deprecated `registry.mirrors` form of containerd's CRI plugin (containerd before 1.5, config version 2), to
 * merge into `/etc/containerd/config.toml`. An endpoint with a path is used as the API root as written, like
 * `override_path`. The upstream is always tried last in this form, so there is no "no fallback" variant.
 */
export function renderConfigToml(
  entries: readonly MirrorEntry[],
  tls: { readonly mirrorHost: string; readonly ca: string | undefined; readonly skipVerify: boolean },
): string {
  const lines = ['# merge into /etc/containerd/config.toml (version = 2), then restart containerd', ''];
  for (const { host, endpoint } of entries) {
    lines.push(`[plugins."io.containerd.grpc.v1.cri".registry.mirrors.${tomlString(host)}]`);
    lines.push(`  endpoint = [${tomlString(endpoint.url)}]`, '');
  }
  if (tls.ca !== undefined || tls.skipVerify) {
    lines.push(`[plugins."io.containerd.grpc.v1.cri".registry.configs.${tomlString(tls.mirrorHost)}.tls]`);
    if (tls.ca !== undefined) lines.push(`  ca_file = ${tomlString(tls.ca)}`);
    if (tls.skipVerify) lines.push('  insecure_skip_verify = true');
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * The `registryMirrors` block of a bare-metal cluster configuration (bmctl), to place under the Cluster's `spec:`.
 * Hosts that share an endpoint share an entry.
 */
export function renderBmctl(
  entries: readonly MirrorEntry[],
  options: { readonly caCertPath: string | undefined; readonly pullCredentialConfigPath: string | undefined },
): string {
  const byEndpoint = new Map<string, string[]>();
  for (const { host, endpoint } of entries) byEndpoint.set(endpoint.url, [...(byEndpoint.get(endpoint.url) ?? []), host]);
  const registryMirrors = [...byEndpoint.entries()].map(([endpoint, hosts]) => ({
    endpoint,
    ...(options.caCertPath === undefined ? {} : { caCertPath: options.caCertPath }),
    ...(options.pullCredentialConfigPath === undefined ? {} : { pullCredentialConfigPath: options.pullCredentialConfigPath }),
    hosts,
  }));
  return stringify({ registryMirrors }, { lineWidth: 0 });
}
