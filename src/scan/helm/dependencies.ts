import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

/** A dependency a chart declares (Chart.yaml `dependencies`, or requirements.yaml for apiVersion v1 charts). */
export interface Dependency {
  readonly name: string;
  readonly alias: string | undefined;
  readonly condition: string | undefined;
}

/** The dependencies a chart declares but does not vendor under `charts/`, and which of them its defaults enable. */
export interface MissingDependencies {
  readonly file: 'Chart.yaml' | 'requirements.yaml';
  readonly missing: readonly Dependency[];
  readonly enabled: readonly Dependency[];
}

/**
 * Real charts often declare optional dependencies that only `helm dependency build` fetches (kyverno's
 * reports-server, external-secrets' bitwarden-sdk-server). `helm template` refuses such a chart outright, so the
 * scan renders it without them; a missing dependency its default values enable is said out loud, because what it
 * deploys is then not listed.
 */
export function missingDependencies(chart: string): MissingDependencies | undefined {
  for (const file of ['Chart.yaml', 'requirements.yaml'] as const) {
    const path = join(chart, file);
    if (!existsSync(path)) continue;
    const declared = declaredDependencies(readFileSync(path, 'utf8'));
    if (declared.length === 0) continue;
    const vendored = vendoredCharts(join(chart, 'charts'));
    const missing = declared.filter((dependency) => !vendored.some((name) => name === dependency.name));
    if (missing.length === 0) return undefined;
    const values = readValues(chart);
    return { file, missing, enabled: missing.filter((dependency) => enabledByDefault(dependency, values)) };
  }
  return undefined;
}

/** The chart file's text without the given dependencies, everything else as written. */
export function withoutDependencies(text: string, drop: readonly Dependency[]): string {
  const document = parseDocument(text);
  const list = document.get('dependencies', true) as { items?: unknown[] } | undefined;
  if (list?.items === undefined) return text;
  const names = new Set(drop.map((dependency) => dependency.name));
  list.items = list.items.filter((item) => {
    const name = (item as { get?: (key: string) => unknown }).get?.('name');
    return typeof name !== 'string' || !names.has(name);
  });
  return document.toString();
}

function declaredDependencies(text: string): Dependency[] {
  let parsed: unknown;
  try {
    parsed = parseDocument(text).toJS();
  } catch {
    return []; // helm reports a broken chart file itself when it renders
  }
  const list = (parsed as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    const { name, alias, condition } = (entry ?? {}) as { name?: unknown; alias?: unknown; condition?: unknown };
    if (typeof name !== 'string') return [];
    return [{ name, alias: typeof alias === 'string' ? alias : undefined, condition: typeof condition === 'string' ? condition : undefined }];
  });
}

/** Chart names under `charts/`: folders by their Chart.yaml name, archives by the `<name>-<version>.tgz` helm writes. */
function vendoredCharts(folder: string): string[] {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (entry.isDirectory()) {
      try {
        const name = (parseDocument(readFileSync(join(folder, entry.name, 'Chart.yaml'), 'utf8')).toJS() as { name?: unknown } | null)?.name;
        return typeof name === 'string' ? [name] : [entry.name];
      } catch {
        return [entry.name];
      }
    }
    const archive = /^(.+)-v?\d+\.\d+\.\d+[^/]*\.tgz$/.exec(entry.name);
    return archive?.[1] === undefined ? [] : [archive[1]];
  });
}

function readValues(chart: string): unknown {
  try {
    return parseDocument(readFileSync(join(chart, 'values.yaml'), 'utf8')).toJS();
  } catch {
    return undefined;
  }
}

/** Helm's rule: the first condition path that holds a boolean decides; none does, the dependency is enabled. */
function enabledByDefault(dependency: Dependency, values: unknown): boolean {
  for (const path of (dependency.condition ?? '').split(',')) {
    let node: unknown = values;
    for (const key of path.trim().split('.')) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (typeof node === 'boolean') return node;
  }
  return true;
}
