import { type MirrorEndpoint, defaultHostDirectory, upstreamServer } from './endpoint.js';

export interface HostsTomlOptions {
  /** The source host (`docker.io`, `registry.example:5000`) or `_default`. */
  readonly host: string;
  readonly endpoint: MirrorEndpoint;
  /** When false, nothing falls back to the upstream: the mirror itself is the server. */
  readonly fallback: boolean;
  /** CA file path on the node, for the mirror's TLS. */
  readonly ca: string | undefined;
  readonly skipVerify: boolean;
}

/**
 * One `certs.d/<host>/hosts.toml` (containerd 1.5+ registry host configuration). Hosts are tried in order, then
 * `server`. containerd falls back to the upstream even when `server` is absent, so without fallback the mirror is
 * written as the server itself, and as the one [host] table containerd 1.6 requires (docs/adr/0041, 0076).
 */
export function renderHostsToml(options: HostsTomlOptions): string {
  const settings = hostSettings(options);
  const lines: string[] = [];
  if (!options.fallback) {
    // containerd 1.6 rejects a hosts.toml without a [host] table ("invalid `host` tree") and then falls back to
    // the upstream, so the mirror is written both as the server and as the one host.
    lines.push(`server = ${tomlString(options.endpoint.url)}`, ...settings, '');
  } else if (options.host !== defaultHostDirectory) {
    lines.push(`server = ${tomlString(upstreamServer(options.host))}`, '');
  }
  lines.push(`[host.${tomlString(options.endpoint.url)}]`, ...settings.map((line) => `  ${line}`), '');
  return lines.join('\n');
}

function hostSettings(options: HostsTomlOptions): string[] {
  const lines = ['capabilities = ["pull", "resolve"]'];
  if (options.ca !== undefined) lines.push(`ca = ${tomlString(options.ca)}`);
  if (options.skipVerify) lines.push('skip_verify = true');
  if (options.endpoint.overridePath) lines.push('override_path = true');
  return lines;
}

/** A TOML basic string; JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`) are all valid TOML. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}
