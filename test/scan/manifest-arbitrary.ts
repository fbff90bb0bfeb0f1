import fc from 'fast-check';

const word = fc.constantFrom('a', 'name', 'image', 'kind', 'containers', 'nginx:1.25', 'ghcr.io/o/app@sha256:' + 'a'.repeat(64), '1', 'true', 'null', '~', '0x1F', '-v', 'a b', 'x#y', '${VAR}', '{{ .Values.x }}', '.inf', 'it\'s');
const quoted = fc.tuple(word, fc.constantFrom('"', "'", '')).map(([value, quote]) =>
  quote === '"' ? JSON.stringify(value) : quote === "'" ? `'${value.replaceAll("'", "''")}'` : value,
);
const comment = fc.constantFrom('', '', ' # note', '  #image: x');

/**
 * What follows a key's colon or a sequence dash, for a node at `indent`: inline (` value\n`, ` {…}\n`, ` |` and its
 * lines) or a block on the following lines (`\n` then lines at `indent`).
 */
type Render = (indent: number) => string;

function node(depth: number): fc.Arbitrary<Render> {
  const scalar = fc.tuple(quoted, comment).map(([value, note]): Render => () => ` ${value}${note}\n`);
  const flow = fc
    .array(fc.tuple(fc.constantFrom('name', 'image', 'a'), quoted), { maxLength: 3 })
    .map((pairs): Render => () => ` {${pairs.map(([key, value]) => `${key}: ${value}`).join(', ')}}\n`);
  const literal = fc.constantFrom('|', '>-', '|+').map((header): Render => (indent) => ` ${header}\n${' '.repeat(indent)}containers:\n${' '.repeat(indent + 2)}- image: x\n`);
  if (depth === 0) return fc.oneof(scalar, flow, literal);
  const child = node(depth - 1);
  const key = fc.constantFrom('containers', 'services', 'image', 'name', 'kind', 'spec', 'initContainers', 'metadata', 'apiVersion', 'volumes', 'reference', 'a');
  const map = fc
    .array(fc.tuple(key, child), { minLength: 1, maxLength: 4 })
    .map((entries): Render => (indent) => `\n${entries.map(([name, render]) => `${' '.repeat(indent)}${name}:${render(indent + 2)}`).join('')}`);
  const seq = fc.tuple(fc.array(fc.tuple(child, fc.boolean()), { minLength: 1, maxLength: 3 }), fc.boolean()).map(
    ([items, indentless]): Render => (indent) => {
      // `key:` then `- item` lines at the key's column is a sequence without indentation.
      const at = indentless ? Math.max(0, indent - 2) : indent;
      return `\n${items
        .map(([render, compact]) => {
          const value = render(at + 2);
          // A block child can start on the dash's line: `- name: x` with the rest under `name`.
          return compact && value.startsWith('\n') ? `${' '.repeat(at)}- ${value.slice(at + 3)}` : `${' '.repeat(at)}-${value}`;
        })
        .join('')}`;
    },
  );
  return fc.oneof(map, seq, child);
}

/** YAML texts of one to three documents shaped like manifests, in the styles people write them in. */
export const manifests = fc
  .array(node(4), { minLength: 1, maxLength: 3 })
  .map((renders) => renders.map((render) => render(0).replace(/^[\n ]/, '')).join('---\n'));
