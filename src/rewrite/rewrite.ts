import { readFile } from 'node:fs/promises';
import { MirrorhookError } from '../errors.js';
import type { Mapper } from '../mapping/index.js';
import { scanPaths } from '../scan/files.js';
import { type FilePlan, planRewrite } from './plan.js';
import { writeFileAtomically } from './write.js';

export interface RewriteOptions {
  /** Plan only: files are not written. */
  readonly write: boolean;
  readonly readText?: (file: string) => Promise<string>;
  readonly writeText?: (file: string, text: string) => Promise<void>;
}

/**
 * Scans the paths and rewrites every file with third-party references in place (or only plans it). Returns one plan
 * per file that has changes or blocked references, in scan order.
 */
export async function rewritePaths(paths: readonly string[], mapper: Mapper, options: RewriteOptions): Promise<FilePlan[]> {
  const readText = options.readText ?? ((file: string) => readFile(file, 'utf8'));
  const writeText = options.writeText ?? writeFileAtomically;
  const { files } = scanPaths(paths, mapper);
  const plans: FilePlan[] = [];
  for (const scan of files) {
    if (!scan.occurrences.some((occurrence) => occurrence.standing === 'third-party')) continue;
    let text: string;
    try {
      text = await readText(scan.file);
    } catch (error) {
      throw new MirrorhookError('MH_SCAN_PATH', `${scan.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    const plan = planRewrite(scan, text, mapper);
    if (plan.changes.length === 0 && plan.blocked.length === 0) continue;
    if (options.write && plan.rewritten !== plan.original) await writeText(scan.file, plan.rewritten);
    plans.push(plan);
  }
  return plans;
}
