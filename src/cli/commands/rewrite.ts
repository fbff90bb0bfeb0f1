import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper } from '../../mapping/index.js';
import { rewritePaths } from '../../rewrite/rewrite.js';
import { parseOutputFormat, writeJsonLine } from '../command.js';
import { dryRunFlag, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag } from '../spec.js';

export const rewriteCommand = defineCommand({
  name: 'rewrite',
  summary: 'rewrite third-party image references in manifests and Dockerfiles to the mirror, in place',
  synopsis: ['mirrorhook rewrite [--dry-run | --check] [--config FILE] [--output text|json] PATH...'],
  description: `Rewrites every third-party reference that scan finds to its mirror target, through the same mapping as
the webhook. Only the reference text changes: comments, key order, quoting, indentation and line endings
stay. Files are replaced atomically. Templated values and references already in the mirror are left
alone, so running it twice changes nothing the second time.`,
  flags: [
    { ...dryRunFlag, help: 'change nothing; print a unified diff (git apply / patch -p1 take it)' },
    flag({ name: 'check', type: 'boolean', help: 'change nothing; exit 1 if anything would change (for CI), listing what' }),
    configFlag,
    { ...outputFlag, help: 'text (a line per change) or json (one object per change or reference left as is)' },
  ],
  examples: ['mirrorhook rewrite --dry-run --config examples/mirrorhook.yaml examples/k8s'],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    const dryRun = values['dry-run'] === true;
    const check = values.check === true;
    if (dryRun && check) throw new MirrorhookError('MH_USAGE', '--dry-run and --check are alternatives; give one');
    if (positionals.length === 0) throw new MirrorhookError('MH_USAGE', 'rewrite needs at least one PATH (see mirrorhook rewrite --help)');
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);
    const plans = await rewritePaths(positionals, mapper, { write: !dryRun && !check });
    // The diff library is needed for --dry-run's text only (ADR 0160).
    const unifiedDiff = dryRun && format === 'text' ? (await import('../../rewrite/diff.js')).unifiedDiff : undefined;

    let changes = 0;
    let files = 0;
    for (const plan of plans) {
      if (plan.changes.length > 0) files += 1;
      changes += plan.changes.length;
      for (const blocked of plan.blocked) {
        const occurrence = blocked.occurrence;
        if (format === 'json') {
          writeJsonLine(io.stdout, { file: plan.file, line: occurrence.line, column: occurrence.column, image: occurrence.image, target: null, action: 'kept', reason: blocked.reason });
        } else {
          io.stderr.write(`mirrorhook rewrite: kept ${plan.file}:${occurrence.line}: ${occurrence.image}: ${blocked.reason}\n`);
        }
      }
      if (unifiedDiff !== undefined) {
        io.stdout.write(unifiedDiff(plan));
        continue;
      }
      for (const change of plan.changes) {
        const occurrence = change.occurrence;
        const target = occurrence.target ?? change.replacement;
        if (format === 'json') {
          writeJsonLine(io.stdout, {
            file: plan.file,
            line: occurrence.line,
            column: occurrence.column,
            image: occurrence.image,
            target,
            action: dryRun || check ? 'would-rewrite' : 'rewritten',
            reason: null,
          });
        } else {
          io.stdout.write(`${plan.file}:${occurrence.line}: ${occurrence.image} -> ${target}\n`);
        }
      }
    }
    const summary = `${changes} reference${changes === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`;
    if (check && changes > 0) throw new MirrorhookError('MH_REWRITE_CHECK', `${summary}; run mirrorhook rewrite without --check to change them`);
    if (format === 'text' && !dryRun) io.stderr.write(`mirrorhook rewrite: ${check ? 'nothing to rewrite' : `rewrote ${summary}`}\n`);
    return 0;
  },
});
