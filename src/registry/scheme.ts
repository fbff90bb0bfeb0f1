// Which scheme and API host a registry name means: pure functions, apart from the transport so that the commands
// writing node configuration (mirror-config) do not load the HTTP client to use them (ADR 0160).

/**
 * The one scheme rule for a registry host, used by every client (copy, webhook) and by every node configuration
 * mirrorhook writes (mirror-config): plain HTTP when the host is marked insecure, or when it is loopback and no CA
 * is configured for it; HTTPS otherwise.
 */
export function registryScheme(host: string, options: { readonly insecure?: boolean; readonly hasCa?: boolean }): 'http' | 'https' {
  const plain = options.insecure === true || (isLoopbackHost(host) && options.hasCa !== true);
  return plain ? 'http' : 'https';
}

export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host);
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/** Docker Hub's reference domain is not its API host. */
export function apiHost(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? 'registry-1.docker.io' : domain;
}
