import { loadConfig } from '../../config/load.js';
import {
  type GeneratedFile,
  type MirrorEntry,
  checkHosts,
  defaultHostDirectory,
  hostsFromPatterns,
  mirrorEndpoint,
  renderBmctl,
  renderConfigToml,
  renderHostsToml,
  writeFilesAtomically,
} from '../../containerd/index.js';
import { renderRegistriesConf } from '../../crio/index.js';
import { renderMirrorSets } from '../../openshift/index.js';
import { MirrorhookError } from '../../errors.js';
import { parseMirrorRegistry } from '../../mapping/index.js';
import { registryScheme } from '../../registry/scheme.js';
import { defineCommand, flag } from '../spec.js';
import { basename, dirname } from 'node:path';
import { runDockerConfig } from './mirror-config-docker.js';

const formats = ['hosts-toml', 'config-toml', 'bmctl'] as const;
type Format = (typeof formats)[number];

export const mirrorConfigCommand = defineCommand({
  name: 'mirror-config',
  summary: 'node registry-mirror configuration: containerd (hosts.toml, config.toml, bmctl), CRI-O, Docker, OpenShift mirror sets; Artifact Registry remote repositories',
  synopsis: [
    'mirrorhook mirror-config containerd [--config FILE] [--hosts HOST,...] [--default]\n[--out DIR] [--format hosts-toml|config-toml|bmctl] [--no-fallback]\n[--ca PATH] [--skip-verify] [--pull-credential-config-path PATH]',
    'mirrorhook mirror-config crio [--config FILE] [--hosts HOST,...] [--out FILE] [--no-fallback]',
    'mirrorhook mirror-config docker [--config FILE]',
    'mirrorhook mirror-config openshift [--config FILE] [--hosts HOST,...] [--no-fallback]',
  ],
  description: `Node-level mirroring: containerd pulls each source host's images from the mirror without any Pod changing.
For each source host (the hosts of sources.include, or --hosts), one <host>/hosts.toml in the
/etc/containerd/certs.d layout: the mirror as a [host."<url>"] with capabilities pull and resolve, then the
upstream as server (the fallback). A mirror with a path (its prefix, and the source host with the host-path
layout) is written as <url>/v2/<path> with override_path = true. Scheme: the rule copy uses, https unless
mirror.insecure, or the mirror is loopback (127.0.0.1, localhost, ::1) and no --ca is given.`,
  flags: [
    flag({ name: 'hosts', type: 'string', value: 'LIST', help: 'source hosts, comma-separated (docker.io,quay.io,registry.example:5000)' }),
    flag({ name: 'default', type: 'boolean', help: 'also write _default/hosts.toml, the catch-all for every other host (layout path only)' }),
    flag({
      name: 'out',
      type: 'string',
      value: 'DIR',
      help: 'write DIR/<host>/hosts.toml, each atomically (e.g. /etc/containerd/certs.d);\nwithout it every file is printed to stdout after a "# <host>/hosts.toml" line',
    }),
    flag({ name: 'no-fallback', type: 'boolean', help: 'never pull from the upstream: the mirror becomes the server itself' }),
    flag({ name: 'ca', type: 'string', value: 'PATH', help: "CA file on the node for the mirror's TLS (ca; caCertPath with bmctl)" }),
    flag({ name: 'skip-verify', type: 'boolean', help: "do not verify the mirror's TLS certificate (skip_verify = true); only when asked" }),
    flag({
      name: 'format',
      type: 'string',
      value: 'FMT',
      help: 'hosts-toml (default); config-toml, the deprecated registry.mirrors tables of\n/etc/containerd/config.toml for containerd before 1.5; bmctl, the registryMirrors block\nof a bare-metal cluster configuration (goes under spec:)',
    }),
    flag({
      name: 'pull-credential-config-path',
      type: 'string',
      value: 'PATH',
      help: "bmctl: Docker config.json on the nodes with the mirror's credentials",
    }),
  ],
  notes: `crio: a containers-registries.conf v2 drop-in (/etc/containers/registries.conf.d/50-mirrorhook.conf), one
[[registry]] per source host with the mirror as [[registry.mirror]] (pull-from-mirror = "all"); with
--no-fallback the mirror is the registry's location. Read by CRI-O, Podman and skopeo alike. --out FILE.

docker: the daemon.json keys (registry-mirrors, and insecure-registries for a plain-HTTP mirror). Docker honours
registry-mirrors for Docker Hub only, and only a mirror without a path: layout path and no prefix.

openshift: an ImageDigestMirrorSet and an ImageTagMirrorSet named mirrorhook (config.openshift.io/v1), printed
for oc apply -f -; the Machine Config Operator writes them into every node's CRI-O configuration. Sources
fall back to the upstream (AllowContactingSource) unless --no-fallback (NeverContactSource).

Artifact Registry remote repositories (pull-through caches): mirrorhook mirror-config artifact-registry --help`,
  examples: [
    'mirrorhook mirror-config containerd --config examples/mirrorhook.yaml --hosts docker.io,quay.io --out /etc/containerd/certs.d',
    'mirrorhook mirror-config containerd --hosts docker.io,quay.io --format bmctl --ca /root/ca.crt',
    'mirrorhook mirror-config crio --config examples/mirrorhook.yaml --hosts docker.io,quay.io',
    'mirrorhook mirror-config openshift --config examples/mirrorhook.yaml --hosts docker.io,quay.io --no-fallback',
  ],
  // Artifact Registry remote repositories take their own flags and --help (mirror-config-artifact-registry.ts),
  // loaded only for that subcommand: it needs the Google and registry clients, the node formats do not (ADR 0160).
  delegates: { 'artifact-registry': async () => (await import('./mirror-config-artifact-registry.js')).artifactRegistryCommand },
  async run({ values, positionals }, io) {
    const [subcommand, ...rest] = positionals;
    if (subcommand === 'docker') return runDockerConfig(values, io);
    if (subcommand !== 'containerd' && subcommand !== 'crio' && subcommand !== 'openshift') {
      throw new MirrorhookError(
        'MH_USAGE',
        subcommand === undefined
          ? 'mirror-config needs a runtime: mirrorhook mirror-config containerd|crio|docker|openshift|artifact-registry (see mirrorhook mirror-config --help)'
          : `unknown runtime "${subcommand}": containerd, crio, docker, openshift or artifact-registry`,
      );
    }
    if (rest.length > 0) throw new MirrorhookError('MH_USAGE', `unexpected argument "${rest[0]}" (see mirrorhook mirror-config --help)`);
    const format = parseFormat(values.format);
    const usageProblems: string[] = [];
    if (subcommand === 'crio' || subcommand === 'openshift') {
      const writes = subcommand === 'crio' ? 'crio writes registries.conf' : 'openshift writes mirror sets';
      if (values.format !== undefined) usageProblems.push(`--format is for containerd; ${writes}`);
      if (values.default) usageProblems.push(`${subcommand === 'crio' ? 'registries.conf' : 'a mirror set'} has no catch-all for every host: list them with --hosts`);
      if (values.ca !== undefined || values['skip-verify']) {
        usageProblems.push(
          subcommand === 'crio'
            ? 'crio reads the mirror CA from /etc/containers/certs.d/<mirror>/ca.crt, not registries.conf: drop --ca/--skip-verify'
            : "OpenShift trusts a mirror CA through the cluster Image config's additionalTrustedCA, not a mirror set: drop --ca/--skip-verify",
        );
      }
      if (subcommand === 'openshift' && values.out !== undefined) usageProblems.push('openshift prints the mirror sets for oc apply -f -; drop --out');
    }
    if (format !== 'hosts-toml' && values.out !== undefined) usageProblems.push(`--out writes hosts.toml folders; ${format} is printed to stdout`);
    if (format !== 'hosts-toml' && values['no-fallback']) {
      usageProblems.push(`--no-fallback cannot be expressed in ${format}: that form always tries the upstream last; use hosts-toml`);
    }
    if (format === 'bmctl' && values['skip-verify']) usageProblems.push('--skip-verify has no bmctl field; give --ca with the mirror CA');
    if (format !== 'bmctl' && values['pull-credential-config-path'] !== undefined) usageProblems.push('--pull-credential-config-path goes with --format bmctl');
    if (values.ca === '') usageProblems.push('--ca needs a path');

    const { config } = await loadConfig(values.config);
    const mirror = parseMirrorRegistry(config.mirror.registry);
    let hosts: string[];
    if (values.hosts !== undefined) {
      hosts = [...new Set(values.hosts.split(',').map((host) => host.trim()).filter((host) => host !== ''))];
      if (hosts.length === 0) usageProblems.push('--hosts is empty');
    } else {
      const fromConfig = hostsFromPatterns(config.sources.include);
      hosts = fromConfig.hosts;
      if (fromConfig.unbounded.length > 0 && !values.default) {
        usageProblems.push(
          `sources.include ${fromConfig.unbounded.map((pattern) => `"${pattern}"`).join(', ')} names no registry host: give --hosts docker.io,quay.io or --default`,
        );
      }
    }
    if (values.default && !hosts.includes(defaultHostDirectory)) hosts.push(defaultHostDirectory);
    if (hosts.length === 0 && usageProblems.length === 0) usageProblems.push('no source hosts: give --hosts docker.io,quay.io or --default');
    usageProblems.push(...checkHosts(hosts, mirror.domain));
    if (usageProblems.length > 0) throw new MirrorhookError('MH_USAGE', usageProblems.join('; '));

    const ca = values.ca;
    // The scheme rule copy and the webhook use (src/registry): a loopback mirror without a CA speaks plain HTTP.
    const scheme = registryScheme(mirror.domain, { insecure: config.mirror.insecure, hasCa: ca !== undefined });
    // A host served by a remote repository (mirror.remotes) pulls through it: its images are never in the mirror.
    const remotes = config.mirror.remotes ?? {};
    const entries: MirrorEntry[] = hosts.map((host) => {
      const remote = remotes[host];
      if (remote === undefined) return { host, endpoint: mirrorEndpoint(mirror, config.mirror.layout, host, scheme) };
      const remoteMirror = parseMirrorRegistry(remote);
      return { host, endpoint: mirrorEndpoint(remoteMirror, 'path', host, registryScheme(remoteMirror.domain, {})) };
    });
    const skipVerify = values['skip-verify'] ?? false;

    if (subcommand === 'openshift') {
      const sets = renderMirrorSets(entries, { fallback: !values['no-fallback'] });
      io.stdout.write(sets.yaml);
      for (const host of sets.insecureHosts) {
        io.stderr.write(`note: ${host} is plain HTTP: add it to spec.registrySources.insecureRegistries of the cluster Image config (image.config.openshift.io/cluster)\n`);
      }
      return 0;
    }
    if (subcommand === 'crio') {
      const text = renderRegistriesConf(entries, { fallback: !values['no-fallback'] });
      if (values.out === undefined) {
        io.stdout.write(text);
        return 0;
      }
      for (const written of await writeFilesAtomically(dirname(values.out), [{ path: basename(values.out), content: text }])) io.stderr.write(`wrote ${written}\n`);
      return 0;
    }

    if (format === 'config-toml') {
      io.stdout.write(renderConfigToml(entries, { mirrorHost: mirror.domain, ca, skipVerify }));
      return 0;
    }
    if (format === 'bmctl') {
      io.stdout.write(renderBmctl(entries, { caCertPath: ca, pullCredentialConfigPath: values['pull-credential-config-path'] }));
      return 0;
    }
    const files: GeneratedFile[] = entries.map(({ host, endpoint }) => ({
      path: `${host}/hosts.toml`,
      content: renderHostsToml({ host, endpoint, fallback: !values['no-fallback'], ca, skipVerify }),
    }));
    if (values.out === undefined) {
      io.stdout.write(files.map((file) => `# ${file.path}\n${file.content}`).join('\n'));
      return 0;
    }
    for (const written of await writeFilesAtomically(values.out, files)) io.stderr.write(`wrote ${written}\n`);
    return 0;
  },
});

function parseFormat(value: string | undefined): Format {
  if (value === undefined) return 'hosts-toml';
  const format = formats.find((candidate) => candidate === value);
  if (format === undefined) throw new MirrorhookError('MH_USAGE', `--format must be ${formats.join(', ')}, not "${value}"`);
  return format;
}
