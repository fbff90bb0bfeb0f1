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
 * written as the server itself (see docs/adr/0041-containerd-hosts-toml.md).
 */
export function renderHostsToml(options: HostsTomlOptions): string {
  const settings = hostSettings(options);
  if (!options.fallback) {
    return [`server = ${tomlString(options.endpoint.url)}`, ...settings, ''].join('\n');
  }
  const lines: string[] = [];
  if (options.host !== defaultHostDirectory) lines.push(`server = ${tomlString(upstreamServer(options.host))}`, '');
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
