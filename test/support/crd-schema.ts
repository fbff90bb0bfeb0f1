/**
 * Checks an object against a CustomResourceDefinition's openAPIV3Schema the way the API server's strict field
 * validation does: unknown fields, wrong types, missing required fields and values outside an enum are problems.
 * Only the schema keywords CRDs use are understood; an object without `properties` is free-form.
 */
export interface CrdSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, CrdSchema>>;
  readonly additionalProperties?: CrdSchema | boolean;
  readonly items?: CrdSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export function schemaProblems(value: unknown, schema: CrdSchema, path = ''): string[] {
  const at = path === '' ? '(root)' : path;
  if (schema['x-kubernetes-int-or-string'] === true) {
    return typeof value === 'string' || Number.isInteger(value) ? [] : [`${at}: expected an integer or a string`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: expected a string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: expected an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected a number`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected a list`];
      return schema.items === undefined ? [] : value.flatMap((item, index) => schemaProblems(item, schema.items!, `${path}[${index}]`));
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object`];
      const fields = value as Record<string, unknown>;
      const problems = (schema.required ?? []).filter((key) => !(key in fields)).map((key) => `${at}: missing required field ${key}`);
      for (const [key, inner] of Object.entries(fields)) {
        const where = path === '' ? key : `${path}.${key}`;
        const property = schema.properties?.[key];
        if (property !== undefined) problems.push(...schemaProblems(inner, property, where));
        else if (typeof schema.additionalProperties === 'object') problems.push(...schemaProblems(inner, schema.additionalProperties, where));
        else if (schema.properties !== undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) problems.push(`${where}: unknown field`);
      }
      return problems;
    }
    default:
      return [];
  }
}
