import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema (draft-07, what Helm's values.schema.json takes) of a zod schema from src/config/schema.ts:
 * structure, types, enums and numeric bounds. Custom refinements (glob syntax, attestor names) are left to the
 * webhook's own validation at start-up; the chart's schema catches the typo and the wrong type at `helm install`.
 */
export function toJsonSchema(schema: z.ZodTypeAny): JsonSchema {
  const def = schema._def as { typeName: z.ZodFirstPartyTypeKind };
  switch (def.typeName) {
    case z.ZodFirstPartyTypeKind.ZodDefault:
    case z.ZodFirstPartyTypeKind.ZodOptional:
      return toJsonSchema((schema as z.ZodDefault<z.ZodTypeAny> | z.ZodOptional<z.ZodTypeAny>)._def.innerType);
    case z.ZodFirstPartyTypeKind.ZodEffects:
      return toJsonSchema((schema as z.ZodEffects<z.ZodTypeAny>)._def.schema);
    case z.ZodFirstPartyTypeKind.ZodObject: {
      const object = schema as z.ZodObject<z.ZodRawShape>;
      const properties = Object.fromEntries(Object.entries(object.shape).map(([key, value]) => [key, toJsonSchema(value)]));
      const required = Object.entries(object.shape).filter(([, value]) => !value.isOptional()).map(([key]) => key);
      return {
        type: 'object',
        properties,
        ...(required.length > 0 ? { required } : {}),
        additionalProperties: object._def.unknownKeys !== 'strict',
      };
    }
    case z.ZodFirstPartyTypeKind.ZodString:
      return { type: 'string' };
    case z.ZodFirstPartyTypeKind.ZodBoolean:
      return { type: 'boolean' };
    case z.ZodFirstPartyTypeKind.ZodNumber: {
      const checks = (schema as z.ZodNumber)._def.checks;
      const result: JsonSchema = { type: checks.some((check) => check.kind === 'int') ? 'integer' : 'number' };
      for (const check of checks) {
        if (check.kind === 'min') result.minimum = check.value;
        if (check.kind === 'max') result.maximum = check.value;
      }
      return result;
    }
    case z.ZodFirstPartyTypeKind.ZodEnum:
      return { type: 'string', enum: [...(schema as z.ZodEnum<[string, ...string[]]>).options] };
    case z.ZodFirstPartyTypeKind.ZodLiteral:
      return { const: (schema as z.ZodLiteral<unknown>).value };
    case z.ZodFirstPartyTypeKind.ZodUnion:
      return { anyOf: (schema as z.ZodUnion<[z.ZodTypeAny, ...z.ZodTypeAny[]]>).options.map(toJsonSchema) };
    case z.ZodFirstPartyTypeKind.ZodArray:
      return { type: 'array', items: toJsonSchema((schema as z.ZodArray<z.ZodTypeAny>).element) };
    case z.ZodFirstPartyTypeKind.ZodRecord:
      return { type: 'object', additionalProperties: toJsonSchema((schema as z.ZodRecord<z.ZodString, z.ZodTypeAny>).valueSchema) };
    default:
      throw new Error(`config schema: no JSON Schema for zod type ${def.typeName}; teach test/deploy/config-json-schema.ts`);
  }
}
