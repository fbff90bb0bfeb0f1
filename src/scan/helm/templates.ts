import { isTemplated } from '../template.js';
import { type ExtractResult, type Finding, ScanSkipReason } from '../types.js';

/** `image: value` on a line of its own (also as the first key of a list item), with an optional comment. */
const imageLine = /^[ \t]*(?:-[ \t]+)?image:[ \t]*(\S[^\n#]*?)[ \t]*(?:#[^\n]*)?$/gm;

/**
 * A chart's templates are Go templates, not YAML: they are read line by line, never parsed (a template is
 * `templated`, not unparsable). An `image:` whose value holds `{{ … }}` is templated — what it deploys comes from
 * the values and from `helm template`; a literal value is a reference rewrite can change in place.
 */
export function extractHelmTemplate(text: string): ExtractResult {
  const findings: Finding[] = [];
  for (const match of text.matchAll(imageLine)) {
    const raw = match[1] ?? '';
    const offset = (match.index ?? 0) + match[0].indexOf(raw, match[0].indexOf('image:') + 6);
    const quoted = /^(["']).*\1$/.test(raw);
    const value = quoted ? raw.slice(1, -1) : raw;
    const start = quoted ? offset + 1 : offset;
    const templated = isTemplated(value);
    findings.push({
      start,
      end: start + value.length,
      image: value,
      reference: templated ? undefined : value,
      kind: 'helm-template',
      skipReason: templated ? ScanSkipReason.templated : undefined,
      edit: templated ? { kind: 'none', reason: 'templated values are left to their template' } : { kind: 'reference' },
    });
  }
  return { findings, problems: [] };
}
