import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { Action, createMapper, toRecord } from '../../mapping/index.js';
import { formatTable, parseOutputFormat, writeJsonLine } from '../command.js';
import { outputFlag } from '../flags.js';
import { configFlag, defineCommand } from '../spec.js';

export const mapCommand = defineCommand({
  name: 'map',
  summary: 'show what the mapping does to each image reference, without touching anything',
  synopsis: ['mirrorhook map [--config FILE] [--output text|json] IMAGE...'],
  description: `Prints, for each reference, its fully-qualified source, the mirror target and the decision
(rewrite, skip with a reason, or invalid). Exit 1 when any reference is invalid.`,
  flags: [
    configFlag,
    { ...outputFlag, help: 'text (a table) or json (one object per input)' },
  ],
  examples: ['mirrorhook map nginx:1.25 quay.io/prometheus/node-exporter:v1.8.0'],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    if (positionals.length === 0) throw new MirrorhookError('MH_USAGE', 'map needs at least one IMAGE (see mirrorhook map --help)');
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);
    const records = positionals.map((input) => toRecord(mapper.decide(input)));
    if (format === 'json') {
      for (const record of records) writeJsonLine(io.stdout, record);
    } else {
      io.stdout.write(
        formatTable(
          ['INPUT', 'ACTION', 'TARGET', 'REASON'],
          records.map((record) => [record.input, record.action, record.target ?? '-', record.reason]),
        ),
      );
    }
    return records.some((record) => record.action === Action.invalid) ? 1 : 0;
  },
});
