import type { Layout } from '../mapping/map.js';
import { MirrorhookError } from '../errors.js';
import { type MirrorRegistry, encodeDomain } from '../mapping/index.js';

/** The upstream registry containerd talks to for a host when no mirror answers. */
export function upstreamServer(host: string): string {
  return host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
}

/** The catch-all directory containerd reads when no `<host>` directory matches. */
export const defaultHostDirectory = '_default';

export interface MirrorEndpoint {
  /** `https://mirror:5000` or, with a path, `https://mirror:5000/v2/prefix/docker.io`. */
  readonly url: string;
  /** True when the URL carries the API path itself (containerd must not append `/v2`). */
  readonly overridePath: boolean;
}

/**
 * Where containerd finds `host`'s images in the mirror. The repository path containerd asks for is the one the
 * image reference names (`library/nginx`), so the mirror's own prefix, and with the host-path layout the encoded
 * source host, go into the endpoint's path (`/v2/<prefix>/docker.io`) with `override_path`. The name layout drops
 * path parts, which no endpoint can express.
 */
export function mirrorEndpoint(
  mirror: MirrorRegistry,
  layout: Layout,
  host: string,
  scheme: 'https' | 'http',
): MirrorEndpoint {
  const base = `${scheme}://${mirror.domain}`;
  const parts: string[] = mirror.prefix === '' ? [] : [mirror.prefix];
  switch (layout) {
    case 'name':
      throw new MirrorhookError(
        'MH_CONTAINERD_LAYOUT',
        'mirror.layout "name" keeps only the last path part (nginx, not library/nginx), which containerd cannot map to; use layout host-path or path',
      );
    case 'host-path':
      if (host === defaultHostDirectory) {
        throw new MirrorhookError(
          'MH_CONTAINERD_LAYOUT',
          'a _default catch-all cannot name the source host in the mirror path that mirror.layout "host-path" needs; list the hosts instead, or use layout path',
        );
      }
      parts.push(encodeDomain(host));
      break;
    case 'path':
      break;
  }
  if (parts.length === 0) return { url: base, overridePath: false };
  return { url: `${base}/v2/${parts.join('/')}`, overridePath: true };
}
