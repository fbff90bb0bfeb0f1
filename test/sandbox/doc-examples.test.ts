import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Example, helpExamples, markdownExamples } from '../docs/examples.js';
import { notRunHere, sandboxExample } from '../docs/not-run-here.js';
import { builtCli } from '../support/built-cli.js';
import { type World, harborPassword, startWorld } from './world.js';

// The examples of README.md, docs/ and --help that name registries (localhost:5000, docker.io, quay.io,
// harbor.internal, a past run's ports) or Google's API, run as written by the built CLI in the world of world.ts.
// A console block runs whole, in order, its other programs too (skopeo, crane, with pipes to sha256sum or wc), but
// not gcloud or kubectl, whose services are not simulated here (nor needed by a later line); each line's shown
// output is compared with what it printed (lines in any order; "…" stands for lines not shown; durations and
// speeds are not compared). A --help or ```sh example has no output shown: it must exit 0.
// Each group (a console block, a page's sh block, a command's --help) starts from emptied mirrors and a fresh
// reader's folder: the files the examples name (images.txt, k8s/, mirrorhook.yaml, …), ~/.docker/config.json with
// the Harbor login, and what earlier steps on the page would have left (the "given" below).

const repoRoot = resolve(import.meta.dirname, '..', '..');
const keyOf = (example: Example) => `${example.where.replace(/:\d+$/, '')} | ${example.command}`;
const examples = [...markdownExamples(), ...(await helpExamples())].filter((example) => notRunHere.get(keyOf(example)) === sandboxExample);

interface Step {
  readonly line: string;
  readonly command: string;
  /** Shown output (console blocks), undefined when none is shown. */
  readonly output: string[] | undefined;
}
interface Group {
  readonly name: string;
  /** The page or `--help of mirrorhook CMD`: what the "given" is keyed by. */
  readonly source: string;
  readonly steps: Step[];
}

/** The blocks of a markdown file holding sandbox examples: a console block whole, an sh block's sandbox lines. */
function markdownGroups(file: string, lines: ReadonlySet<number>): Group[] {
  const text = readFileSync(join(repoRoot, file), 'utf8').split('\n');
  const groups: Group[] = [];
  let fence: string | undefined;
  let block: { start: number; steps: Step[]; wanted: boolean } | undefined;
  text.forEach((line, index) => {
    const open = /^```(\w*)/.exec(line);
    if (open) {
      if (fence === undefined) {
        fence = open[1] ?? '';
        block = { start: index + 1, steps: [], wanted: false };
      } else {
        if (block?.wanted) groups.push({ name: `${file}:${block.start}`, source: file, steps: block.steps });
        fence = undefined;
        block = undefined;
      }
      return;
    }
    if (block === undefined) return;
    const wanted = lines.has(index + 1);
    block.wanted ||= wanted;
    if (fence === 'console') {
      if (/^\$ (gcloud|kubectl) /.test(line)) block.steps.push({ line: `${file}:${index + 1}`, command: '', output: undefined });
      else if (line.startsWith('$ ')) block.steps.push({ line: `${file}:${index + 1}`, command: line.slice(2), output: [] });
      else block.steps.at(-1)?.output?.push(line);
    } else if (wanted) {
      block.steps.push({ line: `${file}:${index + 1}`, command: line.replace(/\s+#.*$/, ''), output: undefined });
    }
  });
  return groups.map((group) => ({
    ...group,
    steps: group.steps.filter((step) => step.command !== '').map((step) => (step.output?.length === 0 ? { ...step, output: undefined } : step)),
  }));
}

function groupsOf(found: readonly Example[]): Group[] {
  const pages = new Map<string, Set<number>>();
  const help = new Map<string, Step[]>();
  for (const example of found) {
    const page = /^(.*\.md):(\d+)$/.exec(example.where);
    if (page) {
      const lines = pages.get(page[1] ?? '') ?? new Set<number>();
      pages.set(page[1] ?? '', lines.add(Number(page[2])));
    } else {
      const steps = help.get(example.where) ?? [];
      help.set(example.where, [...steps, { line: example.where, command: `mirrorhook ${example.command}`, output: undefined }]);
    }
  }
  return [
    ...[...pages].flatMap(([file, lines]) => markdownGroups(file, lines)),
    ...[...help].map(([where, steps]) => ({ name: where, source: where, steps })),
  ];
}

let world: World;
let reader: string;
let home: string;
let env: NodeJS.ProcessEnv;

/** Runs one line as a reader's shell would, in the reader's folder. */
function sh(command: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: reader, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('close', (code) => done({ code, output }));
  });
}

async function given(command: string): Promise<void> {
  const result = await sh(command);
  if (result.code !== 0) throw new Error(`given step "${command}" failed (${result.code}):\n${result.output}`);
}

/** A fresh folder as a reader would have it before following the page. */
function freshReader(): void {
  reader = mkdtempSync(join(world.dir, 'reader-'));
  home = mkdtempSync(join(world.dir, 'home-'));
  symlinkSync(join(repoRoot, 'examples'), join(reader, 'examples'));
  copyFileSync(world.caFile, join(reader, 'harbor-ca.crt'));
  copyFileSync(join(repoRoot, 'examples', 'logs', 'gcloud-events.json'), join(reader, 'pulls.json'));
  copyFileSync(join(repoRoot, 'examples', 'logs', 'binauthz-dryrun.json'), join(reader, 'dryrun.json'));
  writeFileSync(
    join(reader, 'mirrorhook.yaml'),
    [
      'mirror:',
      '  registry: localhost:5000/mirror',
      'sync:',
      '  - source: docker.io/library/nginx',
      '    tags: {semver: ">=1.25"}',
      '  - source: quay.io/prometheus/node-exporter',
      '    tags: {semver: ">=1.8 <2"}',
      '',
    ].join('\n'),
  );
  mkdirSync(join(reader, 'k8s'));
  writeFileSync(
    join(reader, 'k8s', 'web.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      'spec:',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec:',
      '      containers:',
      '        - name: web',
      '          image: nginx:1.27',
      '        - name: metrics',
      '          image: quay.io/prometheus/node-exporter:v1.8.0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(reader, 'images.txt'), 'docker.io/library/nginx:1.25\nquay.io/prometheus/node-exporter:v1.8.1\n');
  mkdirSync(join(home, '.docker'));
  const auth = Buffer.from(`admin:${harborPassword}`).toString('base64');
  writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'harbor.internal': { auth } } }));
  env = { ...env, HOME: home };
}

/** What earlier steps of the page (or a reader's own setup) would have left, per page or --help. */
const givens: Record<string, () => Promise<void>> = {
  'docs/commands/ls.md': () => given('mirrorhook copy --all-tags docker.io/library/nginx localhost:5000/mirror/docker.io/library/nginx'),
  '--help of mirrorhook ls': () => given('mirrorhook copy --all-tags docker.io/library/nginx localhost:5000/mirror/docker.io/library/nginx'),
  'docs/commands/push-pull.md': async () => {
    // The page's "two local registries": images already in localhost:5000 (the same bytes as upstream's).
    await world.seed('local5000', 'library/nginx', '1.25');
    await world.seed('local5000', 'prometheus/node-exporter', 'v1.8.0');
  },
  '--help of mirrorhook push': async () => {
    await given('mirrorhook pull nginx:1.25 quay.io/prometheus/node-exporter:v1.8.0 --to-archive images.tar.gz');
    await given('crane pull --format oci docker.io/library/nginx:1.27 nginx-layout');
  },
  'docs/commands/sync.md': () => {
    // The page's configuration, saved as mirrorhook.yaml.
    const page = readFileSync(join(repoRoot, 'docs/commands/sync.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(page)?.[1];
    if (yaml === undefined) throw new Error('docs/commands/sync.md has no yaml block to save as mirrorhook.yaml');
    writeFileSync(join(reader, 'mirrorhook.yaml'), yaml);
    return Promise.resolve();
  },
  'docs/deploy.md': () => googleReader(),
  '--help of mirrorhook mirror-config artifact-registry': () => googleReader(),
};

/** A reader on Google Cloud: a mirror in Artifact Registry and a service-account key (the simulated Google's). */
function googleReader(): Promise<void> {
  writeFileSync(join(reader, 'mirrorhook.yaml'), 'mirror:\n  registry: us-docker.pkg.dev/my-project/mirror\n');
  writeFileSync(join(reader, 'key.json'), world.google.keyJson);
  env = { ...env, GOOGLE_APPLICATION_CREDENTIALS: join(reader, 'key.json'), CLOUDSDK_CONFIG: world.google.emptyDir };
  return Promise.resolve();
}

/** Figures that differ from run to run: durations, speeds. */
function normalise(line: string): string {
  return line
    .replace(/\b\d+(\.\d+)? s\b/g, 'N s')
    .replace(/\([\d.]+ [kMG]?B\/s\)/g, '(N B/s)')
    .replace(/"seconds":[\d.]+/g, '"seconds":N')
    .trimEnd();
}

function compare(shown: readonly string[], printed: string): void {
  const expected = shown.filter((line) => line.trim() !== '').map(normalise);
  const actual = printed.split('\n').filter((line) => line.trim() !== '').map(normalise);
  const open = expected.some((line) => line.trim() === '…');
  const wanted = expected.filter((line) => line.trim() !== '…');
  if (!open) {
    expect([...actual].sort(), `printed:\n${printed}`).toEqual([...wanted].sort());
    return;
  }
  const left = [...actual];
  const missing = wanted.filter((line) => {
    const at = left.indexOf(line);
    if (at >= 0) left.splice(at, 1);
    return at < 0;
  });
  expect(missing, `printed:\n${printed}`).toEqual([]);
}

const groups = groupsOf(examples);
/** MIRRORHOOK_SANDBOX_TRANSCRIPT=FILE: every step and what it printed, to refresh a page's shown output from. */
const transcript = process.env.MIRRORHOOK_SANDBOX_TRANSCRIPT;

beforeAll(async () => {
  world = await startWorld();
  const bin = join(world.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mirrorhook'), `#!/bin/sh\nexec "${process.execPath}" "${builtCli}" "$@"\n`);
  chmodSync(join(bin, 'mirrorhook'), 0o755);
  env = {
    PATH: `${bin}:${join(repoRoot, '.cache', 'bin')}:${process.env.PATH ?? ''}`,
    NODE_EXTRA_CA_CERTS: world.caFile,
    SSL_CERT_FILE: world.caBundle,
    HARBOR_PASSWORD: harborPassword,
  };
  // Upstream: what docker.io, quay.io and the pages' source registries hold, the same bytes on every run.
  for (const tag of ['1.25', '1.27']) await world.seed('hub', 'library/nginx', tag);
  await world.seed('hub', 'library/nginx', 'latest', { seed: 'library/nginx:1.27' });
  for (const tag of ['v1.6.0', 'v1.7.0', 'v1.8.0', 'v1.8.1', 'v1.8.2']) await world.seed('quay', 'prometheus/node-exporter', tag);
  await world.seed('quay', 'prometheus/node-exporter', 'latest', { seed: 'prometheus/node-exporter:v1.8.2' });
  await world.seed('copySource', 'team/app', '1.0', { layerSize: 4 * 1024 * 1024, attestation: true, signature: true });
  for (const tag of ['1.0.0', '1.1.0', '1.2.0-rc.1', '1.2.0', '2.0.0', 'latest']) await world.seed('syncSource', 'team/app', tag);
  for (const tag of ['v1-alpine', 'v2-alpine', 'v2-debian']) await world.seed('syncSource', 'team/tools', tag);
}, 300_000);
afterAll(async () => {
  await world?.stop();
});

describe('examples that name registries, run as written against simulated ones (test/sandbox/world.ts)', () => {
  it('finds them, in pages and in --help', () => {
    expect(examples.some((example) => example.where.startsWith('docs/'))).toBe(true);
    expect(examples.some((example) => example.where.startsWith('--help of'))).toBe(true);
    expect(groups.flatMap((group) => group.steps).length).toBeGreaterThanOrEqual(examples.length);
  });

  it.each(groups.map((group) => [group.name, group] as const))('%s', async (_name, group) => {
    await world.reset();
    const base = { ...env };
    freshReader();
    try {
      await givens[group.source]?.();
      for (const step of group.steps) {
        const result = await sh(step.command);
        if (transcript !== undefined) appendFileSync(transcript, `${step.line}\n$ ${step.command}\n${result.output}\n`);
        expect(result.code, `${step.line}: $ ${step.command}\n${result.output}`).toBe(0);
        if (step.output !== undefined) compare(step.output, result.output);
      }
    } finally {
      env = base;
    }
  });
});
