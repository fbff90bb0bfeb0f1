import { anchoredDomain } from '../reference/grammar.js';
import { defaultHostDirectory } from './endpoint.js';

/**
 * The source registry hosts named by `sources.include` patterns (`docker.io/**` → `docker.io`). A pattern whose
 * host part has a wildcard (`**`, `*.gcr.io/**`) names no host; those are returned so the caller can say so.
 */
export function hostsFromPatterns(patterns: readonly string[]): { hosts: string[]; unbounded: string[] } {
  const hosts: string[] = [];
  const unbounded: string[] = [];
  for (const pattern of patterns) {
    const host = pattern.split('/')[0] ?? '';
    if (/[*?[\]]/.test(host) || !pattern.includes('/')) unbounded.push(pattern);
    else if (!hosts.includes(host.toLowerCase())) hosts.push(host.toLowerCase());
  }
  return { hosts, unbounded };
}

/** Checks `--hosts` entries: registry hosts as containerd names its directories (`host[:port]`), or `_default`. */
export function checkHosts(hosts: readonly string[], mirrorDomain: string): string[] {
  const problems: string[] = [];
  for (const host of hosts) {
    if (host === defaultHostDirectory) continue;
    if (!anchoredDomain.test(host) || host.includes('/')) {
      problems.push(`"${host}" is not a registry host[:port] (docker.io, quay.io, registry.example:5000)`);
    } else if (host.toLowerCase() === mirrorDomain.toLowerCase()) {
      problems.push(`"${host}" is the mirror itself; a mirror for the mirror would loop`);
    }
  }
  return problems;
}
