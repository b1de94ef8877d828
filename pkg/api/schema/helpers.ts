// Building blocks for kind schemas. Every kind's fields are declared ONCE as a TypeBox schema:
// the TS type is derived with Static<>, the same schema drives unknown-field detection
// (fieldValidation=Strict) and becomes an OpenAPI v3 component. The x-kubernetes-* annotations
// mirror upstream's OpenAPI so strategic merge / server-side apply know how to merge lists.

import { type Static, type TSchema, Type } from "@sinclair/typebox";

export type { Static, TSchema };
export { Type };

export const Str = (description?: string) => Type.String(description ? { description } : {});
export const Int = (description?: string) => Type.Integer(description ? { description } : {});
export const Num = (description?: string) => Type.Number(description ? { description } : {});
export const Bool = (description?: string) => Type.Boolean(description ? { description } : {});
/** RFC 3339 timestamp, e.g. "2024-01-02T03:04:05Z". */
export const Time = (description?: string) =>
  Type.String({ format: "date-time", ...(description ? { description } : {}) });
export const Opt = Type.Optional;
export const Obj = Type.Object;
export const Lit = Type.Literal;

/** A free-form map (labels, data, nodeSelector...): any key, values of one schema. */
export function MapOf<T extends TSchema>(value: T, description?: string) {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: "object",
    additionalProperties: value,
    ...(description ? { description } : {}),
  });
}
export const StrMap = (description?: string) => MapOf(Type.String(), description);

/** An opaque JSON value (e.g. apply patches, raw extensions): never checked for unknown fields. */
export const AnyJson = (description?: string) =>
  Type.Unsafe<unknown>({ "x-kubernetes-preserve-unknown-fields": true, ...(description ? { description } : {}) });

/** intstr.IntOrString: 8080 or "http" / "25%". */
export const IntOrString = (description?: string) =>
  Type.Unsafe<number | string>({
    "x-kubernetes-int-or-string": true,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...(description ? { description } : {}),
  });

/** resource.Quantity: "100m", "128Mi", 2. Parse with pkg/api/quantity.ts. */
export const Quantity = (description?: string) =>
  Type.Unsafe<string | number>({
    oneOf: [{ type: "string" }, { type: "number" }],
    ...(description ? { description } : {}),
  });

/** An atomic list (replaced as a whole by merge patches). */
export function List<T extends TSchema>(item: T, description?: string) {
  return Type.Array(item, { "x-kubernetes-list-type": "atomic", ...(description ? { description } : {}) });
}

/** A list of scalars merged as a set. */
export function SetList<T extends TSchema>(item: T, description?: string) {
  return Type.Array(item, { "x-kubernetes-list-type": "set", ...(description ? { description } : {}) });
}

/**
 * A list keyed by some fields (containers by name, ports by containerPort+protocol...): upstream's
 * `+listType=map +listMapKey=...`, and `+patchStrategy=merge +patchMergeKey=...` unless
 * patch is false (a list strategic merge patch replaces whole, as upstream's resources.claims).
 */
export function MapList<T extends TSchema>(
  item: T,
  keys: string[],
  o: { mergeKey?: string; retainKeys?: boolean; patch?: false; description?: string } = {},
) {
  return Type.Array(item, {
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": keys,
    ...(o.patch === false
      ? {}
      : {
          "x-kubernetes-patch-merge-key": o.mergeKey ?? keys[0],
          "x-kubernetes-patch-strategy": o.retainKeys ? "merge,retainKeys" : "merge",
        }),
    ...(o.description ? { description: o.description } : {}),
  });
}

/** Conditions lists: keyed by type, as upstream. */
export function Conditions<T extends TSchema>(item: T) {
  return MapList(item, ["type"]);
}
