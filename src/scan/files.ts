import { lstat, readFile, readdir } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { MirrorhookError } from '../errors.js';
import type { Mapper } from '../mapping/index.js';
import { formatFor } from './formats.js';
import { type FileScan, applyKustomizeOverrides, scanText } from './scan.js';
import { type FileSkip, FileSkipReason } from './types.js';

/** Folders no repository keeps manifests in, skipped when walking. */
const skippedFolders = new Set(['.git', 'node_modules', '.hg', '.svn']);
/** Larger files are reported, not read: manifests and Dockerfiles are small, and this keeps memory bounded. */
export const maxFileBytes = 8 * 1024 * 1024;
const concurrency = 32;

export interface ScanFileSystem {
  lstat: typeof lstat;
  readdir: typeof readdir;
  readFile: (path: string) => Promise<string>;
}

const nodeFileSystem: ScanFileSystem = { lstat, readdir, readFile: (path) => readFile(path, 'utf8') };

export interface ScanResult {
  readonly files: readonly FileScan[];
  /** How many files a format read (whether or not they named images). */
  readonly filesRead: number;
}

/**
 * Scans files and folders (recursively; symbolic links are not followed). A path that does not exist is bad usage;
 * a file that cannot be read or parsed is reported as a skip and the scan goes on.
 */
export async function scanPaths(paths: readonly string[], mapper: Mapper, fs: ScanFileSystem = nodeFileSystem): Promise<ScanResult> {
  const candidates: string[] = [];
  for (const path of paths) {
    const file = normalize(path);
    let stats;
    try {
      stats = await fs.lstat(file);
    } catch (error) {
      throw new MirrorhookError('MH_SCAN_PATH', `${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    if (stats.isDirectory()) await walk(file, fs, candidates);
    else candidates.push(file);
  }

  const scans: FileScan[] = new Array<FileScan>(candidates.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      const index = next;
      next += 1;
      const candidate = candidates[index];
      if (candidate !== undefined) scans[index] = await scanFile(candidate, mapper, fs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, candidates.length) }, worker));
  return { files: applyKustomizeOverrides(scans), filesRead: scans.filter((scan) => scan.format !== undefined).length };
}

async function walk(folder: string, fs: ScanFileSystem, into: string[]): Promise<void> {
  const entries = await fs.readdir(folder, { withFileTypes: true });
  entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name)) await walk(path, fs, into);
    } else if (entry.isFile() && formatFor(path) !== undefined) {
      into.push(path);
    }
  }
}

async function scanFile(file: string, mapper: Mapper, fs: ScanFileSystem): Promise<FileScan> {
  const format = formatFor(file);
  const skipped = (skipReason: FileSkip['skipReason'], detail: string): FileScan => ({
    file,
    format: format?.name,
    occurrences: [],
    skips: [{ file, line: 1, skipReason, detail }],
    links: [],
  });
  if (format === undefined) {
    return skipped(FileSkipReason.unknownFormat, 'not a Dockerfile, Kubernetes YAML/JSON, kustomization or Compose file');
  }
  let text: string;
  try {
    const stats = await fs.lstat(file);
    if (stats.size > maxFileBytes) return skipped(FileSkipReason.tooLarge, `${stats.size} bytes, over ${maxFileBytes}`);
    text = await fs.readFile(file);
  } catch (error) {
    return skipped(FileSkipReason.unreadable, (error as NodeJS.ErrnoException).code ?? String(error));
  }
  return scanText(file, text, mapper, format);
}
