import { posix, sep } from 'node:path';
import { parseDocument } from 'yaml';
import type { Mapper } from '../../mapping/index.js';
import { type FileScan, type Occurrence, place } from '../scan.js';
import { FileSkipReason, type Format } from '../types.js';
import { reconcileValues } from './reconcile.js';
import { renderChart } from './render.js';
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
 * the template file it comes from. These occurrences report; rewrite changes the values and templates instead.
 * When helm cannot render, the chart's Chart.yaml gets one `not-rendered` skip that says why.
 */
export function addRendered(scans: readonly FileScan[], charts: readonly Chart[], mapper: Mapper): FileScan[] {
  const result = [...scans];
  const index = new Map(result.map((scan, position) => [scan.file, position]));
  for (const chart of charts) {
    if (charts.some((other) => other !== chart && toPosix(chart.folder).startsWith(`${toPosix(other.folder)}/charts/`))) continue;
    const rendered = renderChart(chart.folder);
    if (!rendered.ok) {
      const file = posix.join(chart.folder, 'Chart.yaml');
      result.push({ file, format: 'helm-chart', occurrences: [], skips: [{ file, line: 1, skipReason: FileSkipReason.notRendered, detail: rendered.detail }], links: [] });
      continue;
    }
    if (rendered.unrendered.length > 0) {
      const file = posix.join(chart.folder, 'Chart.yaml');
      const detail = `dependencies enabled by default but not vendored in charts/: ${rendered.unrendered.join(', ')}; what they deploy is not listed (run \`helm dependency build\` first)`;
      result.push({ file, format: 'helm-chart', occurrences: [], skips: [{ file, line: 1, skipReason: FileSkipReason.notRendered, detail }], links: [] });
    }
    const renderedSources: string[] = [];
    for (const { file, findings } of rendered.rendered) {
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
    reconcileValues(result, chart.folder, renderedSources, mapper);
  }
  return result;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
