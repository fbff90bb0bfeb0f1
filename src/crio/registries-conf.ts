/**
 * containers-registries.conf v2 for CRI-O (and Podman, Buildah, skopeo: the same containers/image library reads
 * it): one [[registry]] per source host with the mirror as its [[registry.mirror]], written as a drop-in for
 * /etc/containers/registries.conf.d/. See docs/node-runtimes.md and docs/adr/0077-crio-registries-conf.md.
 */
import type { MirrorEndpoint } from '../containerd/index.js';
import { tomlString } from '../containerd/index.js';

export interface RegistriesConfEntry {
  /** The source host (`docker.io`, `registry.example:5000`). */
  readonly host: string;
  /** The mirror endpoint as containerd is given it (`http://mirror:5000/v2/prefix/docker.io`). */
  readonly endpoint: MirrorEndpoint;
}

/** `host[:port]/path` and whether it is plain HTTP, from a containerd-style endpoint URL. */
export function mirrorLocation(endpoint: MirrorEndpoint): { location: string; insecure: boolean } {
  const url = new URL(endpoint.url);
  const path = endpoint.overridePath ? url.pathname.replace(/^\/v2\/?/, '') : '';
  return { location: path === '' ? url.host : `${url.host}/${path}`, insecure: url.protocol === 'http:' };
}

/**
 * The drop-in file. With fallback the source stays the registry's `location` (tried after the mirror); without,
 * the mirror becomes the `location` itself, so nothing is ever pulled from the source.
 */
export function renderRegistriesConf(entries: readonly RegistriesConfEntry[], options: { readonly fallback: boolean }): string {
  const lines = ['# mirrorhook mirror-config crio: pull these registries from the mirror.', ''];
  for (const { host, endpoint } of entries) {
    const mirror = mirrorLocation(endpoint);
    lines.push('[[registry]]', `prefix = ${tomlString(host)}`);
    if (options.fallback) {
      lines.push(`location = ${tomlString(host)}`, '', '[[registry.mirror]]', `location = ${tomlString(mirror.location)}`);
      if (mirror.insecure) lines.push('insecure = true');
      lines.push('pull-from-mirror = "all"');
    } else {
      lines.push(`location = ${tomlString(mirror.location)}`);
      if (mirror.insecure) lines.push('insecure = true');
    }
    lines.push('');
  }
  return lines.join('\n');
}
