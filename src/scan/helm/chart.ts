import { posix, sep } from 'node:path';
import { parseDocument } from 'yaml';
import type { Mapper } from '../../mapping/index.js';
import { type FileScan, type Occurrence, place } from '../scan.js';
import { FileSkipReason, type Format } from '../types.js';
import { markUnrenderedTemplates, reconcileValues } from './reconcile.js';
import { type Rendered, renderChart } from './render.js';
import { extractHelmTemplate } from './templates.js';
import { extractHelmValues } from './values.js';

/** A folder with a Chart.yaml, found while walking, with the chart's appVersion (the default tag of its images). */
export interface Chart {
  readonly folder: string;
  readonly appVersion: string | undefined;
}

export function readChart(folder: string, chartYaml: string): Chart {
  let appVersion: unknown;
  try {
    appVersion = (parseDocument(chartYaml).toJS() as { appVersion?: unknown } | null)?.appVersion;
  } catch {
    appVersion = undefined;
  }
  return { folder, appVersion: typeof appVersion === 'string' || typeof appVersion === 'number' ? String(appVersion) : undefined };
}

const templateFormat: Format = {
  name: 'helm-template',
  matches: () => true,
  mayContainImages: (text) => text.includes('image:'),
  extract: extractHelmTemplate,
};

/** The format of a file inside a chart: its templates and its values files. Undefined for the chart's other files. */
export function chartFormatFor(path: string, charts: readonly Chart[]): Format | undefined {
  const file = toPosix(path);
  let chart: Chart | undefined;
  for (const candidate of charts) {
    const folder = toPosix(candidate.folder);
    if (file.startsWith(`${folder}/`) && (chart === undefined || folder.length > chart.folder.length)) chart = candidate;
  }
  if (chart === undefined) return undefined;
  const relative = file.slice(toPosix(chart.folder).length + 1);
  if (relative.startsWith('templates/')) return templateFormat;
  if (!/^values([.-][^/]*)?\.ya?ml$/i.test(relative)) return undefined;
  const appVersion = chart.appVersion;
  return {
    name: 'helm-values',
    matches: () => true,
    mayContainImages: (text) => text.includes('image') || text.includes('repository'),
    extract: (text) => extractHelmValues(text, appVersion),
  };
}

/**
 * Adds what `helm template` deploys for each top-level chart (a subchart renders with its parent), attributed to
 * the template file it comes from: once with the default values, and once more with each alternative values file
 * next to them (`values-prod.yaml`), which deploys what it names in that environment. These occurrences report;
 * rewrite changes the values and templates instead. When helm cannot render, the chart's Chart.yaml (or the
 * alternative values file) gets one `not-rendered` skip that says why.
 */
export function addRendered(scans: readonly FileScan[], charts: readonly Chart[], mapper: Mapper): FileScan[] {
  const result = [...scans];
  const index = new Map(result.map((scan, position) => [scan.file, position]));
  const skip = (file: string, detail: string): void => {
    result.push({ file, format: 'helm-chart', occurrences: [], skips: [{ file, line: 1, skipReason: FileSkipReason.notRendered, detail }], links: [] });
  };
  for (const chart of charts) {
    if (charts.some((other) => other !== chart && toPosix(chart.folder).startsWith(`${toPosix(other.folder)}/charts/`))) continue;
    const rendered = renderChart(chart.folder);
    if (!rendered.ok) {
      skip(posix.join(chart.folder, 'Chart.yaml'), rendered.detail);
      continue;
    }
    if (rendered.unrendered.length > 0) {
      const detail = `dependencies enabled by default but not vendored in charts/: ${rendered.unrendered.join(', ')}; what they deploy is not listed (run \`helm dependency build\` first)`;
      skip(posix.join(chart.folder, 'Chart.yaml'), detail);
    }
    const everyRendering = addOccurrences(result, index, rendered.rendered, mapper);
    for (const alternate of alternativeValues(result, chart.folder)) {
      const withAlternate = renderChart(chart.folder, undefined, [alternate]);
      if (!withAlternate.ok) {
        skip(alternate, withAlternate.detail);
        continue;
      }
      const sources = addOccurrences(result, index, withAlternate.rendered, mapper);
      reconcileValues(result, chart.folder, sources, mapper, alternate);
      everyRendering.push(...sources);
    }
    // The defaults underlie every rendering: an image values-prod.yaml switches on is deployed, in prod.
    reconcileValues(result, chart.folder, everyRendering, mapper);
    markUnrenderedTemplates(result, chart.folder);
  }
  return result;
}

/** Files like `values-prod.yaml` or `values.staging.yaml` at the top of a chart that the scan read. */
function alternativeValues(scans: readonly FileScan[], folder: string): string[] {
  const prefix = `${toPosix(folder)}/`;
  return scans
    .filter((scan) => scan.format === 'helm-values' && toPosix(scan.file).startsWith(prefix))
    .map((scan) => scan.file)
    .filter((file) => /^values[.-][^/]+\.ya?ml$/i.test(toPosix(file).slice(prefix.length)));
}

/** Places rendered findings in the scans of their template files; returns the sources rendered. */
function addOccurrences(result: FileScan[], index: Map<string, number>, rendered: readonly Rendered[], mapper: Mapper): string[] {
  const renderedSources: string[] = [];
  for (const { file, findings } of rendered) {
    const at = index.get(file);
    const existing = at === undefined ? undefined : result[at];
    // When the template has one image: line per rendered image, each rendered image points at its line.
    const lines = existing?.occurrences.filter((occurrence) => occurrence.format === 'helm-template') ?? [];
    const occurrences: Occurrence[] = findings.map((finding, position) => {
      const line = lines.length === findings.length ? lines[position] : undefined;
      const where = { line: line?.line ?? 1, column: line?.column ?? 1 };
      return place({ ...finding, start: 0, end: 0, edit: { kind: 'none', reason: 'rendered by helm' } }, file, 'helm-rendered', where, mapper);
    });
    for (const occurrence of occurrences) if (occurrence.source !== undefined) renderedSources.push(occurrence.source);
    if (at !== undefined && existing !== undefined) result[at] = { ...existing, occurrences: [...existing.occurrences, ...occurrences] };
    else {
      index.set(file, result.length);
      result.push({ file, format: 'helm-rendered', occurrences, skips: [], links: [] });
    }
  }
  return renderedSources;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
