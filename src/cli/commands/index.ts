import type { Command } from '../command.js';

/** A command as `--help` lists it; its module (and the libraries it needs) is loaded only when it runs. */
export interface CommandEntry {
  readonly name: string;
  /** One line for `mirrorhook --help`; the same as the loaded command's (a test keeps them equal). */
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * Every `mirrorhook <command>`, in the order `--help` lists them. A command is a thin shell over a library
 * function: parse flags, load config, call, print. Loading lazily keeps `mirrorhook map` from paying for the
 * Kubernetes and Google clients, and the webhook's memory to what serving needs.
 */
export const commands: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'run the admission webhook over HTTPS (POST /mutate, /audit; GET /healthz, /readyz, /metrics)',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'map',
    summary: 'show what the mapping does to each image reference, without touching anything',
    load: async () => (await import('./map.js')).mapCommand,
  },
  {
    name: 'copy',
    summary: 'copy images into the mirror byte for byte: every platform, signatures too, resumable',
    load: async () => (await import('./copy.js')).copyCommand,
  },
  {
    name: 'ls',
    summary: 'list the tags of a repository (every page the registry serves), like crane ls',
    load: async () => (await import('./ls.js')).lsCommand,
  },
  {
    name: 'scan',
    summary: 'list third-party image references in files (Dockerfiles, manifests, kustomize, compose, CI pipelines) or in a cluster',
    load: async () => (await import('./scan.js')).scanCommand,
  },
  {
    name: 'report',
    summary: 'the migration scoreboard: one self-contained HTML page (or JSON) of what is mirrored and what still is not',
    load: async () => (await import('./report.js')).reportCommand,
  },
  {
    name: 'sync',
    summary: 'bring the mirror up to date with the sync: entries of the config (tags by semver, regex, latest N)',
    load: async () => (await import('./sync.js')).syncCommand,
  },
  {
    name: 'rewrite',
    summary: 'rewrite third-party image references in manifests and Dockerfiles to the mirror, in place',
    load: async () => (await import('./rewrite.js')).rewriteCommand,
  },
  {
    name: 'pulls',
    summary: 'pull frequency per image, from cluster Pulling events or an exported Cloud Logging / BigQuery result',
    load: async () => (await import('./pulls.js')).pullsCommand,
  },
  {
    name: 'policy',
    summary: 'Binary Authorization policy YAML (dry-run by default), its simulation, and dry-run audit log reports',
    load: async () => (await import('./policy.js')).policyCommand,
  },
  {
    name: 'mirror-config',
    summary: 'node registry-mirror configuration: containerd (hosts.toml, config.toml, bmctl), CRI-O, Docker, OpenShift mirror sets; Artifact Registry remote repositories',
    load: async () => (await import('./mirror-config.js')).mirrorConfigCommand,
  },
  {
    name: 'push',
    summary: 'push image archives (docker save, OCI layout; .tar, .tar.gz, .tar.xz or a folder) into a registry',
    load: async () => (await import('./push.js')).pushCommand,
  },
  {
    name: 'pull',
    summary: 'write images (every platform) into one OCI-layout archive to carry into an air gap',
    load: async () => (await import('./pull.js')).pullCommand,
  },
  {
    name: 'certs',
    summary: "generate the webhook's CA and serving certificate; inject the CA into the webhook configuration",
    load: async () => (await import('./certs.js')).certsCommand,
  },
  {
    name: 'verify',
    summary: 'check that running containers and recent pulls in a cluster come from the mirror',
    load: async () => (await import('./verify.js')).verifyCommand,
  },
];
