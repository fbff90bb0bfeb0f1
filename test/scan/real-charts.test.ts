import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { formatReference, parseReference, repositoryName } from '../../src/reference/index.js';
import { Standing } from '../../src/scan/classify.js';
import { scanPaths } from '../../src/scan/files.js';
import { renderKubeVersion } from '../../src/scan/helm/render.js';
import { runCommand } from '../support/cli.js';
import { testMapper } from './mapper.js';

/**
 * Real public charts, pinned and fetched by test/setup/fetch-charts.sh: for each, the images scan lists must be
 * exactly the images `helm template` deploys with the chart's default values — no invented name, none missed.
 * `editable` counts the deployed images rewrite can change through values.yaml (the rest are listed from the
 * rendering only); the numbers are what this scanner achieves on these pinned versions.
 */
const charts: Record<string, { deployed: number; editable: number }> = {
  'cert-manager': { deployed: 4, editable: 4 },
  'trust-manager': { deployed: 2, editable: 2 },
  kyverno: { deployed: 8, editable: 7 },
  'external-secrets': { deployed: 1, editable: 1 },
  'metrics-server': { deployed: 1, editable: 1 },
  descheduler: { deployed: 1, editable: 1 },
  'sealed-secrets': { deployed: 1, editable: 1 },
  gatekeeper: { deployed: 3, editable: 3 },
  cilium: { deployed: 3, editable: 2 },
};

const root = resolve('.cache/charts');
const mapper = testMapper();

const originalPath = process.env.PATH;
beforeAll(() => {
  // helm from PATH, or the shared one test/setup/install-tools.sh builds into .cache/bin.
  process.env.PATH = `${resolve('.cache/bin')}${delimiter}${originalPath ?? ''}`;
  const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  if (helm.error !== undefined) throw new Error(`helm is not on PATH (${helm.error.message}): run test/setup/install-tools.sh and put .cache/bin on PATH`);
  const absent = Object.keys(charts).filter((name) => !existsSync(join(root, name, 'Chart.yaml')));
  if (absent.length > 0) throw new Error(`charts missing from ${root}: ${absent.join(', ')}; run test/setup/fetch-charts.sh`);
});
afterAll(() => {
  process.env.PATH = originalPath;
});

describe('real public charts: scan lists what helm template deploys', () => {
  for (const [name, expected] of Object.entries(charts)) {
    it(name, () => {
      const folder = join(root, name);
      const deployed = deployedImages(folder);
      const occurrences = scanPaths([folder], mapper).files.flatMap((file) => file.occurrences);
      const listed = occurrences.filter((occurrence) => occurrence.skipReason === undefined && occurrence.standing === Standing.thirdParty);
      expect(new Set(listed.map((occurrence) => occurrence.source))).toEqual(deployed);
      const editable = new Set(
        listed.filter((occurrence) => occurrence.format === 'helm-values' && occurrence.edit.kind !== 'none').map((occurrence) => occurrence.source),
      );
      expect({ deployed: deployed.size, editable: editable.size }).toEqual(expected);
    });
  }
});

describe('real public charts: rewrite, then helm template', () => {
  for (const name of Object.keys(charts)) {
    it(`${name}: every image rewrite can change renders from the mirror, every other one as before`, async () => {
      const scratch = mkdtempSync(join(tmpdir(), 'rewrite-chart-'));
      try {
        const folder = join(scratch, name);
        cpSync(join(root, name), folder, { recursive: true });
        const listed = scanPaths([folder], mapper)
          .files.flatMap((file) => file.occurrences)
          .filter((occurrence) => occurrence.skipReason === undefined && occurrence.standing === Standing.thirdParty);
        // A values block's repository serves every tag the templates give it (kyverno's tests use `latest`).
        const editable = new Set(listed.filter((occurrence) => occurrence.format === 'helm-values' && occurrence.edit.kind !== 'none').map((occurrence) => repositoryOf(occurrence.source)));
        const expected = new Set(listed.map((occurrence) => (editable.has(repositoryOf(occurrence.source)) ? occurrence.target : occurrence.source)));
        const config = join(scratch, 'mirrorhook.yaml');
        writeFileSync(config, 'mirror:\n  registry: mirror.example.com/m\nsources:\n  exclude: ["gcr.io/distroless/**"]\n');
        const result = await runCommand(['rewrite', '--config', config, folder]);
        expect(result.code, result.stderr).toBe(0);
        expect(deployedImages(folder)).toEqual(expected);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  }
});

describe('what the comparison found in real charts', () => {
  it('a values tag the template bends takes the rendered one; an image disabled by default is not-deployed', () => {
    const values = scanPaths([join(root, 'metrics-server')], mapper)
      .files.flatMap((file) => file.occurrences)
      .filter((occurrence) => occurrence.format === 'helm-values');
    expect(values.map((occurrence) => [occurrence.name, occurrence.source, occurrence.skipReason ?? null, occurrence.edit.kind])).toEqual([
      ['image', 'registry.k8s.io/metrics-server/metrics-server:v0.8.1', null, 'repository'],
      ['addonResizer.image', 'registry.k8s.io/autoscaling/addon-resizer:1.8.23', 'not-deployed', 'none'],
    ]);
  });

  it('templates a rendered chart leaves empty are not-deployed, and the scan says so in one line', async () => {
    const { code, stdout, stderr } = await runCommand(['scan', join(root, 'cilium')]);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(3);
    const occurrences = scanPaths([join(root, 'cilium')], mapper).files.flatMap((file) => file.occurrences);
    const hubble = occurrences.filter((occurrence) => occurrence.file.endsWith('templates/hubble-ui/deployment.yaml'));
    expect(hubble.length).toBeGreaterThan(0);
    expect(hubble.every((occurrence) => occurrence.skipReason === 'not-deployed')).toBe(true);
    const notDeployed = occurrences.filter((occurrence) => occurrence.skipReason === 'not-deployed').length;
    expect(stderr).toBe(`mirrorhook scan: ${notDeployed} Helm chart images skipped as not-deployed: helm template with the default values does not deploy them\n`);
  });

  it('a dependency declared but not vendored is left out of the rendering, and said when the defaults enable it', () => {
    const skips = scanPaths([join(root, 'kyverno')], mapper).files.flatMap((file) => file.skips);
    expect(skips.map((skip) => [skip.skipReason, skip.detail])).toEqual([
      ['not-rendered', 'dependencies enabled by default but not vendored in charts/: kyverno-api; what they deploy is not listed (run `helm dependency build` first)'],
    ]);
  });
});

/**
 * The ground truth, computed without the scanner: helm renders the chart (dependencies helm itself lists as
 * missing are dropped, as they have to be offline) and every container, init container, ephemeral container and
 * image volume of the output is read from the parsed YAML.
 */
function deployedImages(folder: string): Set<string> {
  const missing = spawnSync('helm', ['dependency', 'list', folder], { encoding: 'utf8' })
    .stdout.split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((columns) => columns[columns.length - 1] === 'missing')
    .map((columns) => columns[0]);
  let chart = folder;
  const scratch = mkdtempSync(join(tmpdir(), 'real-chart-'));
  try {
    if (missing.length > 0) {
      chart = join(scratch, 'chart');
      cpSync(folder, chart, { recursive: true });
      const document = parseDocument(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
      const dependencies = (document.toJS() as { dependencies: { name: string }[] }).dependencies;
      document.set('dependencies', dependencies.filter((dependency) => !missing.includes(dependency.name)));
      writeFileSync(join(chart, 'Chart.yaml'), document.toString());
    }
    const rendered = spawnSync('helm', ['template', 'truth', chart, '--kube-version', renderKubeVersion], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (rendered.status !== 0) throw new Error(`helm template ${folder}: ${rendered.stderr}`);
    const images = new Set<string>();
    for (const document of parseAllDocuments(rendered.stdout)) collectImages(document.toJS(), images);
    return images;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function collectImages(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectImages(item, into);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (['containers', 'initContainers', 'ephemeralContainers'].includes(key) && Array.isArray(value)) {
      for (const container of value as { image?: unknown }[]) if (typeof container.image === 'string') into.add(formatReference(parseReference(container.image)));
    }
    if (key === 'volumes' && Array.isArray(value)) {
      for (const volume of value as { image?: { reference?: unknown } }[]) {
        if (typeof volume.image?.reference === 'string') into.add(formatReference(parseReference(volume.image.reference)));
      }
    }
    collectImages(value, into);
  }
}

function repositoryOf(source: string | undefined): string {
  return source === undefined ? '' : repositoryName(parseReference(source));
}
