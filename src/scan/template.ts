/** Template syntax that makes a value unknowable from the file alone: `${VAR}`, `$VAR`, `{{ … }}`. */
const templatePattern = /\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[\s\S]*?\}\}|\{\{|\}\}/;

export function isTemplated(value: string): boolean {
  return templatePattern.test(value);
}
