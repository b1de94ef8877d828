// Unknown-field detection (upstream: strict decoding / fieldValidation=Strict). Walks a value
// against its kind's schema and names every field the schema does not declare, with upstream's
// path syntax: "spec.template.spec.containers[0].imagePullPolic".

import type { TSchema } from "./helpers.js";

interface JsonSchemaish {
  type?: string;
  properties?: Record<string, JsonSchemaish>;
  additionalProperties?: JsonSchemaish | boolean;
  items?: JsonSchemaish;
  anyOf?: JsonSchemaish[];
  oneOf?: JsonSchemaish[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Paths of fields in value that schema does not know. Type mismatches are not reported here. */
export function unknownFieldsBySchema(schema: TSchema, value: unknown): string[] {
  const out: string[] = [];
  walk(schema as JsonSchemaish, value, "", out);
  return out;
}

function walk(s: JsonSchemaish, v: unknown, path: string, out: string[]): void {
  if (s["x-kubernetes-preserve-unknown-fields"]) return;
  if (s.properties && isPlainObject(v)) {
    for (const [k, child] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      const cs = s.properties[k];
      if (!cs) out.push(p);
      else walk(cs, child, p, out);
    }
    return;
  }
  if (isPlainObject(s.additionalProperties) && isPlainObject(v)) {
    for (const [k, child] of Object.entries(v)) walk(s.additionalProperties, child, `${path}[${k}]`, out);
    return;
  }
  if (s.items && Array.isArray(v)) {
    const items = s.items;
    v.forEach((item, i) => {
      walk(items, item, `${path}[${i}]`, out);
    });
    return;
  }
  // Unions (IntOrString, Quantity, Time|null) hold scalars: nothing to look into.
}
