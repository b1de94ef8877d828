// A sample object of a kind that fills every field its TypeBox schema declares, for the codec's
// round-trip tests (JSON -> protobuf -> JSON must give the object back): the schema gives the
// shape (objects, lists of one item, maps of one entry) and the codec's compiled message the wire
// form of each field, so the values are in the canonical JSON form the decoder writes: RFC 3339
// seconds for Time, microseconds for MicroTime, a Quantity's string, base64 for bytes. Scalars are
// non-zero (Go's zero values are dropped on decode) and distinct, so two fields sharing a number
// would show. A kind's new field is covered by the tests without writing an example.

import type { Field, Message } from "./codec.js";

interface Node {
  type?: string;
  format?: string;
  const?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  oneOf?: Node[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

export interface Sample {
  object: Record<string, unknown>;
  /** "message.field" of every schema field left out because it has no field number. */
  skipped: string[];
  /** Schema forms whose wire form disagrees (a date-time the codec sends as a string...). */
  mismatched: string[];
  /**
   * Fields the schema leaves opaque (AnyJson) that are a message on the wire: the codec knows none
   * of their fields, so the sample holds `{}` (an object with content there is answered in JSON).
   */
  opaque: string[];
}

interface Ctx {
  n: number;
  /** Which form the next IntOrString takes; alternates, starting from the variant. */
  intOrString: number;
  /** Messages on the current path: a message met again (a recursive schema) is left out. */
  path: string[];
  skipped: Set<string>;
  mismatched: string[];
  opaque: Set<string>;
}

type Kind = Field["kind"];

const BASE = Date.UTC(2026, 11, 4, 10, 11, 12);

/** The schema form a node declares, where it has one the codec must honour. */
function schemaForm(node: Node): "time" | "IntOrString" | "Quantity" | "Raw" | undefined {
  if (node["x-kubernetes-int-or-string"]) return "IntOrString";
  if (node["x-kubernetes-preserve-unknown-fields"]) return "Raw";
  const branches = node.anyOf ?? node.oneOf;
  if (node.format === "date-time" || branches?.some((b) => b.format === "date-time")) return "time";
  if (node.oneOf?.some((b) => b.type === "string") && node.oneOf.some((b) => b.type === "number")) return "Quantity";
  return undefined;
}

const WIRE_FORMS: Record<string, readonly Kind[]> = {
  time: ["Time", "MicroTime"],
  IntOrString: ["IntOrString"],
  Quantity: ["Quantity"],
  Raw: ["Raw"],
};

/** The branch of a nullable union (Type.Union([X, Type.Null()])) that is not null. */
function nonNull(node: Node): Node {
  const branches = node.anyOf ?? node.oneOf;
  if (!branches || node.type !== undefined || schemaForm(node) !== undefined) return node;
  return branches.find((b) => b.type !== "null") ?? node;
}

function value(node: Node, kind: Kind, msg: Message | undefined, where: string, c: Ctx): unknown {
  const form = schemaForm(node);
  if (form === "Raw" && kind === "message") {
    c.opaque.add(where);
    return {};
  }
  if (form && !WIRE_FORMS[form]?.includes(kind)) c.mismatched.push(`${where}: schema ${form}, wire ${kind}`);
  const n = ++c.n;
  switch (kind) {
    case "string":
      return typeof node.const === "string" ? node.const : `${where.slice(where.lastIndexOf(".") + 1)}-${n}`;
    case "int":
      return n;
    case "bool":
      return true;
    case "double":
    case "float":
      return n + 0.5; // exact in a float32 too
    case "bytes":
      return Buffer.from([0, 1, 2, n & 0xff]).toString("base64");
    case "Time":
      return new Date(BASE + n * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    case "MicroTime":
      return new Date(BASE + n * 1000).toISOString().replace(/\.\d+Z$/, `.${String(n).padStart(6, "0")}Z`);
    case "Quantity":
      return `${n}m`;
    case "IntOrString":
      return c.intOrString++ % 2 === 0 ? n : `${n}%`;
    case "Raw":
      return { "f:spec": { ".": {}, [`k:{"n":${n}}`]: [true, null, "x"] } };
    case "strings":
      return [`v-${n}`];
    case "message":
      return message(nonNull(node), msg as Message, c);
  }
}

function field(node: Node, f: Field, where: string, c: Ctx): unknown {
  const s = nonNull(node);
  if (f.repeated) return [value(nonNull(s.items ?? {}), f.kind, f.msg, where, c)];
  if (f.map) {
    const v = typeof s.additionalProperties === "object" ? s.additionalProperties : {};
    return { [`key-${c.n + 1}`]: value(nonNull(v), f.kind, f.msg, where, c) };
  }
  return value(node, f.kind, f.msg, where, c);
}

function message(node: Node, m: Message, c: Ctx): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  c.path.push(m.name);
  for (const [prop, ps] of Object.entries(node.properties ?? {})) {
    const f = m.byName.get(prop) ?? m.inline?.msg.byName.get(prop);
    if (!f) {
      // TypeMeta has no field number below the envelope (the codec drops it, as Go's does).
      if (prop !== "apiVersion" && prop !== "kind") c.skipped.add(`${m.name}.${prop}`);
      continue;
    }
    if (f.msg && c.path.includes(f.msg.name)) continue;
    obj[prop] = field(ps, f, `${m.name}.${prop}`, c);
  }
  c.path.pop();
  return obj;
}

/**
 * sampleOf builds the sample of a kind from its schema and message (codec.messageFor); variant 0
 * and 1 write each IntOrString in opposite forms, so two samples cover both.
 */
export function sampleOf(apiVersion: string, kind: string, schema: unknown, m: Message, variant = 0): Sample {
  const c: Ctx = { n: 0, intOrString: variant, path: [], skipped: new Set(), mismatched: [], opaque: new Set() };
  const object = { apiVersion, kind, ...message(schema as Node, m, c) };
  return { object, skipped: [...c.skipped], mismatched: c.mismatched, opaque: [...c.opaque] };
}
