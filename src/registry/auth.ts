/**
 * Registry authentication: parsing `WWW-Authenticate` challenges and the scopes of the Docker token protocol.
 * The flow itself (ask, cache per scope until expiry) is in authenticator.ts; adding a scope on
 * `insufficient_scope` is in client.ts.
 */

export type Challenge =
  | { readonly scheme: 'basic' }
  | { readonly scheme: 'bearer'; readonly realm: string; readonly service: string | undefined; readonly scope: string | undefined; readonly error: string | undefined };

/** Parses a WWW-Authenticate header; undefined when it names a scheme we do not speak. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] ?? '').toLowerCase();
  const params = new Map<string, string>();
  const paramPattern = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const param of (match[2] ?? '').matchAll(paramPattern)) {
    params.set((param[1] ?? '').toLowerCase(), (param[2] ?? param[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme === 'bearer') {
    const realm = params.get('realm');
    if (realm === undefined || realm === '') return undefined;
    return { scheme: 'bearer', realm, service: params.get('service'), scope: params.get('scope'), error: params.get('error') };
  }
  return undefined;
}

export type Access = 'pull' | 'push';

/** `repository:library/nginx:pull` or `repository:mirror/nginx:pull,push`. */
export function repositoryScope(path: string, access: Access): string {
  return `repository:${path}:${access === 'push' ? 'pull,push' : 'pull'}`;
}

/**
 * Merges scope strings: actions on the same resource are united, so `repository:a:pull` and
 * `repository:a:push` become `repository:a:pull,push`. Sorted, so the result is a stable cache key.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const single of scope.split(' ')) {
      const lastColon = single.lastIndexOf(':');
      if (lastColon <= 0) continue;
      const resource = single.slice(0, lastColon);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const action of single.slice(lastColon + 1).split(',')) if (action !== '') actions.add(action);
      byResource.set(resource, actions);
    }
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`)
    .sort();
}

/** True when the granted scopes cover every wanted action. */
export function scopesCover(granted: readonly string[], wanted: readonly string[]): boolean {
  const have = new Map<string, Set<string>>();
  for (const scope of granted) {
    const lastColon = scope.lastIndexOf(':');
    have.set(scope.slice(0, lastColon), new Set(scope.slice(lastColon + 1).split(',')));
  }
  return wanted.every((scope) => {
    const lastColon = scope.lastIndexOf(':');
    const actions = have.get(scope.slice(0, lastColon));
    return actions !== undefined && scope.slice(lastColon + 1).split(',').every((action) => actions.has(action) || actions.has('*'));
  });
}
