/**
 * Plain-language expectations for JSON Schemas, so that a validation issue reads
 * "Expected an integer from 1 to 20" rather than TypeBox's "Expected union value".
 */

type Schema = Record<string, unknown> & { anyOf?: Schema[] };

/** Describes what `schema` accepts, e.g. `an integer from 1 to 20 or null`. */
export function describeSchema(schema: Schema): string {
  if (Array.isArray(schema.anyOf)) {
    // Elysia widens numbers with a numeric-string alternative for coercion; don't show it.
    const members = schema.anyOf.filter(
      (m) => !(m.type === 'string' && (m.format === 'integer' || m.format === 'numeric')),
    );
    const consts = members.filter((m) => 'const' in m).map((m) => JSON.stringify(m.const));
    if (consts.length === members.length && consts.length > 0) return `one of ${consts.join(', ')}`;
    const merged = members.map((m) => describeSchema({ ...pickBounds(schema), ...m }));
    return [...new Set(merged)].join(' or ');
  }
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  switch (schema.type) {
    case 'integer':
      return `an integer${range(schema)}`;
    case 'number':
      return `a number${range(schema)}`;
    case 'string':
      return `a string${stringRules(schema)}`;
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return `an array${typeof schema.maxItems === 'number' ? ` of at most ${schema.maxItems} items` : ''}`;
    case 'object':
      return 'an object';
    default:
      return 'a valid value';
  }
}

function pickBounds(s: Schema): Schema {
  const out: Schema = {};
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) if (k in s) out[k] = s[k];
  return out;
}

function range(s: Schema): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

function stringRules(s: Schema): string {
  const rules: string[] = [];
  if (typeof s.format === 'string') rules.push(`in ${s.format} format`);
  if (typeof s.pattern === 'string') rules.push(`matching ${s.pattern}`);
  const min = s.minLength as number | undefined;
  const max = s.maxLength as number | undefined;
  if (min !== undefined && max !== undefined) rules.push(`of ${min} to ${max} characters`);
  else if (max !== undefined) rules.push(`of at most ${max} characters`);
  else if (min !== undefined && min > 0) rules.push(`of at least ${min} characters`);
  return rules.length ? ` ${rules.join(', ')}` : '';
}
