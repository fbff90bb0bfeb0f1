import { type Dirent, type Stats, closeSync, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { MirrorhookError } from '../errors.js';
import type { Decision, Mapper } from '../mapping/index.js';
import { applyBuilt } from './built.js';
import { formatFor } from './formats.js';
import { type Chart, addRendered, chartFormatFor, readChart } from './helm/chart.js';
import { type FileScan, applyKustomizeOverrides, scanText } from './scan.js';
import { type FileSkip, FileSkipReason, type Format } from './types.js';

/** Folders no repository keeps manifests in, skipped when walking. */
const skippedFolders = new Set(['.git', 'node_modules', '.hg', '.svn']);
/** Larger files are reported, not read: manifests and Dockerfiles are small, and this keeps memory bounded. */
export const maxFileBytes = 8 * 1024 * 1024;

/**
 * The file system as scan uses it. Synchronous on purpose: a scan reads thousands of small files one after
 * another, and one blocking read each costs a fraction of the promise-based open/stat/read/close round trips.
 */
export interface ScanFileSystem {
  /** For the paths given: a symbolic link given by name is followed (inside folders, links are not). */
  stat(path: string): Stats;
  readdir(path: string): Dirent[];
  /** The file's text (UTF-8), or its size when it is larger than `limit` (then it is not read). */
  readFile(path: string, limit: number): string | { tooLarge: number };
}

/**
 * Where files are read first: most manifests and Dockerfiles fit, so most files cost one open, one read and one
 * close, and no buffer of their own. Safe to share: each file's text is decoded from it before the next is read.
 */
const firstRead = Buffer.allocUnsafe(64 * 1024);

const nodeFileSystem: ScanFileSystem = {
  stat: (path) => statSync(path),
  readdir: (path) => readdirSync(path, { withFileTypes: true }),
  readFile: (path, limit) => {
    const descriptor = openSync(path, 'r');
    try {
      const first = readSync(descriptor, firstRead, 0, firstRead.length, 0);
      if (first < firstRead.length && first <= limit) return firstRead.toString('utf8', 0, first);
      const { size } = fstatSync(descriptor);
      if (size > limit) return { tooLarge: size };
      const buffer = Buffer.allocUnsafe(size);
      let offset = 0;
      while (offset < size) {
        const read = readSync(descriptor, buffer, offset, size - offset, offset);
        if (read === 0) break;
        offset += read;
      }
      return buffer.toString('utf8', 0, offset);
    } finally {
      closeSync(descriptor);
    }
  },
};

export interface ScanResult {
  readonly files: readonly FileScan[];
  /** How many files a format read (whether or not they named images). */
  readonly filesRead: number;
}

/**
 * Scans files and folders (recursively; links inside folders are not followed). A path that does not exist is bad usage;
 * a file that cannot be read or parsed is reported as a skip and the scan goes on.
 */
export function scanPaths(paths: readonly string[], mapper: Mapper, fs: ScanFileSystem = nodeFileSystem): ScanResult {
  const candidates: string[] = [];
  const charts: Chart[] = [];
  for (const path of paths) {
    const file = normalize(path);
    let stats;
    try {
      stats = fs.stat(file);
    } catch (error) {
      throw new MirrorhookError('MH_SCAN_PATH', `${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    if (stats.isDirectory()) walk(file, fs, candidates, charts);
    else candidates.push(file);
  }
  const remembering = rememberingDecisions(mapper);
  const scans = candidates.map((candidate) => scanFile(candidate, remembering, fs, chartFormatFor(candidate, charts)));
  const withCharts = charts.length === 0 ? scans : addRendered(scans, charts, remembering);
  return { files: applyBuilt(applyKustomizeOverrides(withCharts)), filesRead: scans.filter((scan) => scan.format !== undefined).length };
}

/** The mapper, deciding each distinct reference once: a tree names the same few hundred images thousands of times. */
function rememberingDecisions(mapper: Mapper): Mapper {
  const decisions = new Map<string, Decision>();
  return {
    mirror: mapper.mirror,
    layout: mapper.layout,
    isMirrored: (reference) => mapper.isMirrored(reference),
    decide: (input) => {
      let decision = decisions.get(input);
      if (decision === undefined) {
        decision = mapper.decide(input);
        decisions.set(input, decision);
      }
      return decision;
    },
  };
}

function walk(folder: string, fs: ScanFileSystem, into: string[], charts: Chart[]): void {
  const entries = fs.readdir(folder);
  // A folder with a Chart.yaml is a Helm chart: its templates and values files are read as such.
  if (entries.some((entry) => entry.name === 'Chart.yaml' && entry.isFile())) {
    let chartYaml: string | { tooLarge: number } | undefined;
    try {
      chartYaml = fs.readFile(join(folder, 'Chart.yaml'), maxFileBytes);
    } catch {
      chartYaml = undefined; // reported as unreadable when the file itself is scanned
    }
    charts.push(readChart(folder, typeof chartYaml === 'string' ? chartYaml : ''));
  }
  entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name)) walk(path, fs, into, charts);
    } else if (entry.isFile() && formatFor(path) !== undefined) {
      into.push(path);
    }
  }
}

function scanFile(file: string, mapper: Mapper, fs: ScanFileSystem, chartFormat: Format | undefined): FileScan {
  const format = chartFormat ?? formatFor(file);
  const skipped = (skipReason: FileSkip['skipReason'], detail: string): FileScan => ({
    file,
    format: format?.name,
    occurrences: [],
    skips: [{ file, line: 1, skipReason, detail }],
    links: [],
  });
  if (format === undefined) {
    return skipped(FileSkipReason.unknownFormat, 'not a Dockerfile, Kubernetes YAML/JSON, kustomization, Compose, Cloud Build, GitHub Actions, Skaffold, ko or Tilt file');
  }
  let text: string | { tooLarge: number };
  try {
    text = fs.readFile(file, maxFileBytes);
  } catch (error) {
    return skipped(FileSkipReason.unreadable, (error as NodeJS.ErrnoException).code ?? String(error));
  }
  if (typeof text !== 'string') return skipped(FileSkipReason.tooLarge, `${text.tooLarge} bytes, over ${maxFileBytes}`);
  return scanText(file, text, mapper, format);
}
