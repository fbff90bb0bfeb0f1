/**
 * OpenShift's node mirror configuration: an ImageDigestMirrorSet and an ImageTagMirrorSet (config.openshift.io/v1)
 * that the Machine Config Operator turns into the registries.conf of every node's CRI-O. Both are written because a
 * digest mirror set only applies to pulls by digest; most workloads pull by tag. See docs/node-runtimes.md.
 */
import { stringify } from 'yaml';
import type { MirrorEndpoint } from '../containerd/index.js';
import { mirrorLocation } from '../crio/index.js';

export interface MirrorSetEntry {
  readonly host: string;
  readonly endpoint: MirrorEndpoint;
}

export interface MirrorSets {
  /** The two objects as one YAML stream for `oc apply -f -`. */
  readonly yaml: string;
  /** Mirror hosts served over plain HTTP: the mirror sets cannot say so (they hold no scheme). */
  readonly insecureHosts: readonly string[];
}

/**
 * With fallback the source is contacted when the mirror lacks an image (`AllowContactingSource`); without, never
 * (`NeverContactSource`), so a pull either comes from the mirror or fails.
 */
export function renderMirrorSets(entries: readonly MirrorSetEntry[], options: { readonly fallback: boolean; readonly name?: string }): MirrorSets {
  const name = options.name ?? 'mirrorhook';
  const policy = options.fallback ? 'AllowContactingSource' : 'NeverContactSource';
  const insecureHosts = new Set<string>();
  const mirrors = entries.map(({ host, endpoint }) => {
    const mirror = mirrorLocation(endpoint);
    if (mirror.insecure) insecureHosts.add(new URL(endpoint.url).host);
    return { source: host, mirrors: [mirror.location], mirrorSourcePolicy: policy };
  });
  const metadata = { name, labels: { 'app.kubernetes.io/managed-by': 'mirrorhook' } };
  const digest = { apiVersion: 'config.openshift.io/v1', kind: 'ImageDigestMirrorSet', metadata, spec: { imageDigestMirrors: mirrors } };
  const tag = { apiVersion: 'config.openshift.io/v1', kind: 'ImageTagMirrorSet', metadata, spec: { imageTagMirrors: mirrors } };
  const header = '# mirrorhook mirror-config openshift: pull these registries from the mirror (oc apply -f -).\n';
  return { yaml: `${header}${stringify(digest, { aliasDuplicateObjects: false })}---\n${stringify(tag, { aliasDuplicateObjects: false })}`, insecureHosts: [...insecureHosts] };
}
