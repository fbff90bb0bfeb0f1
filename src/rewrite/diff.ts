import { createTwoFilesPatch } from 'diff';
import type { FilePlan } from './plan.js';

/** A unified diff of one planned rewrite, `a/` and `b/` prefixed like `git diff`, so `git apply` and `patch -p1` take it. */
export function unifiedDiff(plan: FilePlan): string {
  if (plan.original === plan.rewritten) return '';
  return createTwoFilesPatch(`a/${plan.file}`, `b/${plan.file}`, plan.original, plan.rewritten, undefined, undefined, { context: 3 })
    .split('\n')
    .filter((line) => !line.startsWith('==='))
    .join('\n');
}
