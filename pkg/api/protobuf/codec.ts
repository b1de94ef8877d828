// Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf) for kubeling's kinds: one
// generic encoder/decoder that walks a kind's TypeBox schema together with the field numbers of
// fields.ts, on protobufjs's wire reader and writer. JSON is the model: decode() yields the JSON
// object a JSON client would have sent, encode() writes the protobuf form of a stored JSON object.
//
// Wire facts kept here: Go's marshaller writes every non-pointer field (empty strings, zero
// ints, false, empty structs), so a zero scalar is dropped on decode as JSON's omitempty would,
// except for pointer fields where zero means something (PRESENCE); an empty message stays `{}`
// (a Go struct field always marshals in JSON). Fields are written in field-number order and map
// entries sorted by key, as Go's stable marshaller does.

import protobuf from "protobufjs/minimal.js";
import { KIND_SCHEMAS } from "../types/schemas.js";
import { FIELDS, type FieldEntry } from "./fields.js";
import { FastWriter } from "./writer.js";

const { Reader } = protobuf;
type Reader = protobuf.Reader;
type Writer = FastWriter;

/** The "k8s\0" magic that opens every protobuf body (not watch frames' inner events). */
export const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * Fields whose zero value JSON carries, kept on decode where other zeros are dropped: mostly
 * pointer scalars (Go `*int32`, `*bool`...) where zero means something (`replicas: 0`,
 * `automountServiceAccountToken: false`, `--now`'s gracePeriodSeconds 0); "message.field" names one
 * field of one message.
 */
const PRESENCE: ReadonlySet<string> = new Set([
  "replicas",
  "revisionHistoryLimit",
  "progressDeadlineSeconds",
  "parallelism",
  "completions",
  "activeDeadlineSeconds",
  "backoffLimit",
  "backoffLimitPerIndex",
  "maxFailedIndexes",
  "ttlSecondsAfterFinished",
  "startingDeadlineSeconds",
  "successfulJobsHistoryLimit",
  "failedJobsHistoryLimit",
  "terminationGracePeriodSeconds",
  "deletionGracePeriodSeconds",
  "gracePeriodSeconds",
  "expirationSeconds",
  "priority",
  "runAsUser",
  "runAsGroup",
  "fsGroup",
  "defaultMode",
  "mode",
  "optional",
  "automountServiceAccountToken",
  "readOnlyRootFilesystem",
  "privileged",
  "allowPrivilegeEscalation",
  "runAsNonRoot",
  "shareProcessNamespace",
  "hostUsers",
  "enableServiceLinks",
  "suspend",
  "manualSelector",
  "immutable",
  "orphanDependents",
  "allocateLoadBalancerNodePorts",
  "controller",
  "blockOwnerDeletion",
  "allowVolumeExpansion",
  // Not pointers, but without omitempty: JSON writes their zero too.
  "restartCount",
  "ready",
  "containerPort",
  // A container that exited 0 (ContainerStateTerminated.exitCode, `json:"exitCode"`).
  "exitCode",
  // By message: a field whose name elsewhere is an omitempty string (EnvVar's value).
  "scheduling.v1.PriorityClass.value",
  "batch.v1.SuccessPolicyRule.succeededCount",
  // Root's uid and gid 0 (LinuxContainerUser's `json:"uid"`, `json:"gid"`).
  "core.v1.LinuxContainerUser.uid",
  "core.v1.LinuxContainerUser.gid",
  // The default runtime handler's name "" (`json:"name"`), and Node features' *bool.
  "core.v1.NodeRuntimeHandler.name",
  "core.v1.NodeRuntimeHandlerFeatures.recursiveReadOnlyMounts",
  "core.v1.NodeRuntimeHandlerFeatures.userNamespaces",
  "core.v1.NodeFeatures.supplementalGroupsPolicy",
  // iSCSI's `json:"lun"`, FC's *int32 lun; AzureDisk's *bool readOnly.
  "lun",
  "core.v1.AzureDiskVolumeSource.readOnly",
]);

type Kind =
  | "string"
  | "int"
  | "bool"
  | "double"
  | "float"
  | "bytes"
  | "message"
  | "Time"
  | "MicroTime"
  | "Quantity"
  | "IntOrString"
  | "Raw"
  | "strings"; // a message {repeated string items = 1} (authorization ExtraValue) holding a JSON list

export interface Field {
  name: string;
  num: number;
  repeated: boolean;
  map: boolean;
  kind: Kind;
  msg?: Message;
  /** Keep zero scalars on decode (PRESENCE). */
  keepZero: boolean;
  /** A map's value as a field of its entry message (number 2), made once when first encoded. */
  entry?: Field;
}

export interface Message {
  name: string;
  byName: Map<string, Field>;
  byNum: Map<number, Field>;
  /** A Go embedded struct: its own message on the wire, its fields in this JSON object. */
  inline?: { num: number; msg: Message };
  /** Schema fields without a field number: an object using one cannot be encoded. */
  missing: string[];
}

interface SchemaNode {
  type?: string;
  format?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

/** A Go-side definition error or an object field that has no number: answer JSON instead. */
export class NotEncodable extends Error {}

const compiled = new Map<string, Message>();
/** The schemas each message was compiled from: a pair is merged once (and recursion ends). */
const compiledFrom = new Map<string, Set<SchemaNode>>();

const SPECIAL = new Set(["Time", "MicroTime", "Quantity", "IntOrString", "Raw", "bytes", "double", "float"]);

function entryOf(table: Readonly<Record<string, FieldEntry>> | undefined, name: string): [number, string?] | undefined {
  const e = table?.[name];
  if (e === undefined) return undefined;
  return typeof e === "number" ? [e] : [e[0], e[1]];
}

function scalarKind(s: SchemaNode): Kind {
  if (s.type === "boolean") return "bool";
  if (s.type === "integer" || s.type === "number") return "int";
  return "string";
}

/** The schema node a field's value has: a list's item, a map's value, or the node itself. */
function valueNode(node: SchemaNode): SchemaNode {
  if (node.type === "array" && node.items) return node.items;
  if (node.type === "object" && !node.properties && typeof node.additionalProperties === "object")
    return node.additionalProperties;
  return node;
}

/**
 * compile builds the definition of message `name` for the JSON shape `schema`. The same message
 * reached through different schemas (a PodSpec in a Pod and in a template) merges both, down to
 * the nested messages: a field first met where a schema leaves it opaque (a StatefulSet's claim
 * template's dataSource) still gets the fields another schema declares (the PVC's).
 */
export function compile(name: string, schema: SchemaNode): Message {
  let m = compiled.get(name);
  if (!m) {
    m = { name, byName: new Map(), byNum: new Map(), missing: [] };
    compiled.set(name, m);
  }
  let from = compiledFrom.get(name);
  if (!from) {
    from = new Set();
    compiledFrom.set(name, from);
  }
  if (from.has(schema)) return m;
  from.add(schema);
  const table = FIELDS[name];
  const inline = entryOf(table, "_inline");
  for (const [prop, ps] of Object.entries(schema.properties ?? {})) {
    const known = m.byName.get(prop);
    if (known) {
      if (known.msg) compile(known.msg.name, valueNode(ps));
      continue;
    }
    const e = entryOf(table, prop);
    if (!e) {
      const inlineName = inline?.[1];
      if (inline && inlineName && entryOf(FIELDS[inlineName], prop)) {
        const sub = compile(inlineName, { properties: { [prop]: ps } });
        m.inline = { num: inline[0], msg: sub };
      } else if (prop !== "apiVersion" && prop !== "kind" && !m.missing.includes(prop)) {
        m.missing.push(prop);
      }
      continue;
    }
    const [num, hint] = e;
    const node = valueNode(ps);
    const repeated = node !== ps && ps.type === "array";
    const map = node !== ps && !repeated;
    const f: Field = {
      name: prop,
      num,
      repeated,
      map,
      kind: "string",
      keepZero: PRESENCE.has(prop) || PRESENCE.has(`${name}.${prop}`),
    };
    if (hint === undefined) f.kind = scalarKind(node);
    else if (SPECIAL.has(hint)) f.kind = hint as Kind;
    else if (node.type === "array" && FIELDS[hint]?.items !== undefined) f.kind = "strings";
    else {
      f.kind = "message";
      f.msg = compile(hint, node);
    }
    m.byName.set(prop, f);
    m.byNum.set(num, f);
  }
  return m;
}

/** missingFields lists every schema field of a message tree that has no number (for tests). */
export function missingFields(m: Message, seen = new Set<Message>()): string[] {
  if (seen.has(m)) return [];
  seen.add(m);
  const out = m.missing.map((f) => `${m.name}.${f}`);
  for (const f of m.byName.values()) if (f.msg) out.push(...missingFields(f.msg, seen));
  if (m.inline) out.push(...missingFields(m.inline.msg, seen));
  return out;
}

// --- the kinds ------------------------------------------------------------------------------

const Str = { type: "string" };
const Int = { type: "integer" };
const Bool = { type: "boolean" };
const ListMetaSchema: SchemaNode = {
  type: "object",
  properties: { selfLink: Str, resourceVersion: Str, continue: Str, remainingItemCount: Int },
};
const StatusSchema: SchemaNode = {
  type: "object",
  properties: {
    metadata: ListMetaSchema,
    status: Str,
    message: Str,
    reason: Str,
    code: Int,
    details: {
      type: "object",
      properties: {
        name: Str,
        group: Str,
        kind: Str,
        uid: Str,
        retryAfterSeconds: Int,
        causes: {
          type: "array",
          items: { type: "object", properties: { reason: Str, message: Str, field: Str } },
        },
      },
    },
  },
};
const DeleteOptionsSchema: SchemaNode = {
  type: "object",
  properties: {
    gracePeriodSeconds: Int,
    preconditions: { type: "object", properties: { uid: Str, resourceVersion: Str } },
    orphanDependents: Bool,
    propagationPolicy: Str,
    dryRun: { type: "array", items: Str },
    ignoreStoreReadErrorWithClusterBreakingPotential: Bool,
  },
};

/** The proto package of an apiVersion: "apps/v1" -> "apps.v1", "rbac.authorization.k8s.io/v1" -> "rbac.v1". */
function packageOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return `core.${apiVersion}`;
  const group = apiVersion.slice(0, slash);
  return `${group.split(".")[0]}.${apiVersion.slice(slash + 1)}`;
}

const kinds = new Map<string, Message | null>();

let allCompiled = false;

/** messageFor: the definition of apiVersion/kind, or undefined when kubeling has none. */
export function messageFor(apiVersion: string, kind: string): Message | undefined {
  // Every kind first, so that a message shared by kinds holds the fields of all their schemas
  // whichever kind a process is asked for first.
  if (!allCompiled) {
    allCompiled = true;
    for (const key of Object.keys(KIND_SCHEMAS)) {
      const slash = key.lastIndexOf("/");
      messageFor(key.slice(0, slash), key.slice(slash + 1));
    }
  }
  const key = `${apiVersion}/${kind}`;
  let m = kinds.get(key);
  if (m === undefined) {
    m = null;
    if (kind === "Status") m = compile("meta.v1.Status", StatusSchema);
    else if (kind === "DeleteOptions") m = compile("meta.v1.DeleteOptions", DeleteOptionsSchema);
    else {
      const schema = KIND_SCHEMAS[key] as SchemaNode | undefined;
      const name = `${packageOf(apiVersion)}.${kind}`;
      if (schema && FIELDS[name]) m = compile(name, schema);
      else if (kind.endsWith("List")) {
        const item = KIND_SCHEMAS[`${apiVersion}/${kind.slice(0, -4)}`] as SchemaNode | undefined;
        if (item && FIELDS[name]) {
          m = compile(name, {
            type: "object",
            properties: { metadata: ListMetaSchema, items: { type: "array", items: item } },
          });
        }
      }
    }
    kinds.set(key, m);
  }
  return m ?? undefined;
}

// --- decoding -------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const num = (v: number | protobuf.Long): number =>
  typeof v === "number" ? v : protobuf.util.LongBits.from(v).toNumber(false);

function rfc3339(seconds: number, nanos: number, micro: boolean): string {
  const iso = new Date(seconds * 1000).toISOString(); // ....sss Z
  const base = iso.slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
}

function readTime(r: Reader, micro: boolean): string | null {
  const end = r.uint32() + r.pos;
  let seconds = 0;
  let nanos = 0;
  let any = false;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 0) seconds = num(r.int64());
    else if (tag >>> 3 === 2 && (tag & 7) === 0) nanos = r.int32();
    else r.skipType(tag & 7);
    any = true;
  }
  // An empty message is Go's zero time, which JSON writes as null (a pointer Time that is nil
  // is not on the wire at all).
  return any ? rfc3339(seconds, nanos, micro) : null;
}

/** readSub reads a length-delimited sub-message's fields with fn(tag). */
function readSub(r: Reader, fn: (tag: number) => void): void {
  const end = r.uint32() + r.pos;
  while (r.pos < end) fn(r.uint32());
}

function readValue(r: Reader, f: Field, wire: number, path: string, unknown: string[]): unknown {
  switch (f.kind) {
    case "string":
      return r.string();
    case "int":
      return num(r.int64());
    case "bool":
      return r.bool();
    case "double":
      return r.double();
    case "float":
      return r.float();
    case "bytes":
      return Buffer.from(r.bytes()).toString("base64");
    case "Time":
    case "MicroTime":
      return readTime(r, f.kind === "MicroTime");
    case "Quantity": {
      let s = "";
      readSub(r, (tag) => {
        if (tag >>> 3 === 1 && (tag & 7) === 2) s = r.string();
        else r.skipType(tag & 7);
      });
      return s;
    }
    case "IntOrString": {
      let type = 0;
      let intVal = 0;
      let strVal = "";
      readSub(r, (tag) => {
        const n = tag >>> 3;
        if (n === 1 && (tag & 7) === 0) type = r.int32();
        else if (n === 2 && (tag & 7) === 0) intVal = r.int32();
        else if (n === 3 && (tag & 7) === 2) strVal = r.string();
        else r.skipType(tag & 7);
      });
      return type === 1 ? strVal : intVal;
    }
    case "Raw": {
      let raw: Uint8Array | undefined;
      readSub(r, (tag) => {
        if (tag >>> 3 === 1 && (tag & 7) === 2) raw = r.bytes();
        else r.skipType(tag & 7);
      });
      if (!raw || raw.length === 0) return undefined;
      try {
        return JSON.parse(Buffer.from(raw).toString("utf8"));
      } catch {
        throw new Error(`${path}: embedded object is not JSON`);
      }
    }
    case "strings": {
      const items: string[] = [];
      readSub(r, (tag) => {
        if (tag >>> 3 === 1 && (tag & 7) === 2) items.push(r.string());
        else r.skipType(tag & 7);
      });
      return items;
    }
    case "message": {
      if (wire !== 2) throw new Error(`${path}: wrong wire type ${wire}`);
      const len = r.uint32();
      return readMessage(r, r.pos + len, f.msg as Message, path, unknown);
    }
  }
}

const WIRE: Record<Kind, number> = {
  string: 2,
  int: 0,
  bool: 0,
  double: 1,
  float: 5,
  bytes: 2,
  message: 2,
  Time: 2,
  MicroTime: 2,
  Quantity: 2,
  IntOrString: 2,
  Raw: 2,
  strings: 2,
};

const isZero = (v: unknown) => v === "" || v === 0 || v === false;

function readMessage(r: Reader, end: number, m: Message, path: string, unknown: string[]): Json {
  const obj: Json = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const n = tag >>> 3;
    const wire = tag & 7;
    const f = m.byNum.get(n);
    const p = path ? `${path}.` : "";
    if (!f) {
      if (m.inline && n === m.inline.num && wire === 2) {
        const len = r.uint32();
        Object.assign(obj, readMessage(r, r.pos + len, m.inline.msg, path, unknown));
        continue;
      }
      unknown.push(`${p}${n}`);
      r.skipType(wire);
      continue;
    }
    const fp = `${p}${f.name}`;
    if (f.map) {
      if (wire !== 2) throw new Error(`${fp}: wrong wire type ${wire}`);
      let key = "";
      let value: unknown;
      const entryField: Field = { ...f, map: false, repeated: false };
      readSub(r, (t) => {
        if (t >>> 3 === 1 && (t & 7) === 2) key = r.string();
        else if (t >>> 3 === 2) value = readValue(r, entryField, t & 7, `${fp}[${key}]`, unknown);
        else r.skipType(t & 7);
      });
      if (value === undefined)
        value = f.kind === "string" || f.kind === "bytes" ? "" : f.kind === "message" ? {} : undefined;
      const mapObj = (obj[f.name] as Json | undefined) ?? {};
      mapObj[key] = value;
      obj[f.name] = mapObj;
      continue;
    }
    if (f.repeated) {
      const list = (obj[f.name] as unknown[] | undefined) ?? [];
      if (wire === 2 && WIRE[f.kind] !== 2) {
        // packed scalars
        const stop = r.uint32() + r.pos;
        while (r.pos < stop) list.push(readValue(r, f, WIRE[f.kind], fp, unknown));
      } else {
        list.push(readValue(r, f, wire, `${fp}[${list.length}]`, unknown));
      }
      obj[f.name] = list;
      continue;
    }
    if (wire !== WIRE[f.kind]) throw new Error(`${fp}: wrong wire type ${wire}`);
    const v = readValue(r, f, wire, fp, unknown);
    if (v === null) {
      obj[f.name] = null;
      continue;
    }
    if (v === undefined || (isZero(v) && !f.keepZero && f.kind !== "IntOrString" && f.kind !== "Quantity")) {
      delete obj[f.name];
      continue;
    }
    obj[f.name] = v;
  }
  if (r.pos !== end) throw new Error(`${path || "object"}: truncated message`);
  return obj;
}

/** decodeMessage decodes raw as m; unknown collects paths of fields m has no number for. */
export function decodeMessage(raw: Uint8Array, m: Message, unknown: string[] = []): Json {
  const r = Reader.create(raw);
  return readMessage(r, raw.length, m, "", unknown);
}

// --- encoding -------------------------------------------------------------------------------

function writeTime(w: Writer, s: string, micro: boolean): void {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new NotEncodable(`not a time: ${s}`);
  const seconds = Math.floor(ms / 1000);
  let nanos = 0;
  const frac = /\.(\d+)/.exec(s)?.[1];
  if (micro && frac) nanos = Number(frac.slice(0, 9).padEnd(9, "0"));
  w.fork();
  w.uint32(8).int64(seconds);
  if (nanos) w.uint32(16).int32(nanos);
  w.ldelim();
}

function writeValue(w: Writer, f: Field, v: unknown, path: string, lenient: boolean): void {
  switch (f.kind) {
    case "string":
      if (typeof v !== "string") throw new NotEncodable(`${path}.${f.name}: not a string`);
      w.uint32((f.num << 3) | 2).string(v);
      return;
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v)) throw new NotEncodable(`${path}.${f.name}: not an integer`);
      w.uint32(f.num << 3).int64(v);
      return;
    case "bool":
      if (typeof v !== "boolean") throw new NotEncodable(`${path}.${f.name}: not a boolean`);
      w.uint32(f.num << 3).bool(v);
      return;
    case "double":
      w.uint32((f.num << 3) | 1).double(Number(v));
      return;
    case "float":
      w.uint32((f.num << 3) | 5).float(Number(v));
      return;
    case "bytes":
      if (typeof v !== "string") throw new NotEncodable(`${path}.${f.name}: not base64`);
      w.uint32((f.num << 3) | 2).bytes(Buffer.from(v, "base64"));
      return;
    case "Time":
    case "MicroTime":
      if (v === null) {
        w.uint32((f.num << 3) | 2).uint32(0);
        return;
      }
      if (typeof v !== "string") throw new NotEncodable(`${path}.${f.name}: not a time`);
      w.uint32((f.num << 3) | 2);
      writeTime(w, v, f.kind === "MicroTime");
      return;
    case "Quantity":
      w.uint32((f.num << 3) | 2)
        .fork()
        .uint32(10)
        .string(String(v))
        .ldelim();
      return;
    case "IntOrString":
      w.uint32((f.num << 3) | 2).fork();
      if (typeof v === "string") w.uint32(8).int32(1).uint32(16).int32(0).uint32(26).string(v);
      else if (typeof v === "number") w.uint32(8).int32(0).uint32(16).int32(v).uint32(26).string("");
      else throw new NotEncodable(`${path}.${f.name}: not an int or string`);
      w.ldelim();
      return;
    case "Raw":
      w.uint32((f.num << 3) | 2)
        .fork()
        .uint32(10)
        .bytes(Buffer.from(JSON.stringify(v)))
        .ldelim();
      return;
    case "strings":
      if (!Array.isArray(v)) throw new NotEncodable(`${path}.${f.name}: not a list`);
      w.uint32((f.num << 3) | 2).fork();
      for (const s of v) w.uint32(10).string(String(s));
      w.ldelim();
      return;
    case "message":
      if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new NotEncodable(`${path}.${f.name}: not an object`);
      w.uint32((f.num << 3) | 2).fork();
      writeMessage(w, v as Json, f.msg as Message, path ? `${path}.${f.name}` : f.name, lenient);
      w.ldelim();
      return;
  }
}

/** The field that carries an inline (Go embedded) message, one per message. */
const inlineFields = new WeakMap<Message, Field>();

function inlineField(m: Message, inline: { num: number; msg: Message }): Field {
  let f = inlineFields.get(m);
  if (!f) {
    f = { name: "", num: inline.num, repeated: false, map: false, kind: "message", msg: inline.msg, keepZero: false };
    inlineFields.set(m, f);
  }
  return f;
}

const isTime = (f: Field) => (f.kind === "Time" || f.kind === "MicroTime") && !f.repeated && !f.map;

// The hot path of every protobuf answer: no per-field allocation beyond the list of fields
// present; paths are built only for the error that makes an object fall back to JSON.
function writeMessage(w: Writer, obj: Json, m: Message, path: string, lenient: boolean): void {
  const fields: Field[] = [];
  let sorted = true;
  let last = 0;
  let inlined: Json | undefined;
  for (const key in obj) {
    const v = obj[key];
    if (v === undefined) continue;
    const f = m.byName.get(key);
    if (f) {
      // JSON's null Time is Go's zero time, which the marshaller writes as an empty message.
      if (v === null && !isTime(f)) continue;
      if (f.num < last) sorted = false;
      last = f.num;
      fields.push(f);
    } else if (v !== null) {
      if (m.inline?.msg.byName.has(key)) {
        inlined ??= {};
        inlined[key] = v;
      } else if (key !== "apiVersion" && key !== "kind" && !lenient) {
        throw new NotEncodable(`${path ? `${path}.` : ""}${key}: no field number`);
      }
    }
  }
  const inl = m.inline ? inlineField(m, m.inline) : undefined;
  if (inl) {
    if (inl.num < last) sorted = false;
    fields.push(inl);
  }
  if (!sorted) fields.sort((a, b) => a.num - b.num);
  for (const f of fields) {
    const v = f === inl ? (inlined ?? {}) : obj[f.name];
    if (f.map) {
      if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new NotEncodable(`${path}.${f.name}: not a map`);
      f.entry ??= { ...f, num: 2, map: false };
      const entries = v as Json;
      const tag = (f.num << 3) | 2;
      for (const k of Object.keys(entries).sort()) {
        const val = entries[k];
        w.uint32(tag).fork();
        w.uint32(10).string(k);
        if (val !== undefined && val !== null) writeValue(w, f.entry, val, path, lenient);
        w.ldelim();
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new NotEncodable(`${path}.${f.name}: not a list`);
      for (const item of v) writeValue(w, f, item, path, lenient);
    } else if (v === null) {
      w.uint32((f.num << 3) | 2).uint32(0);
    } else {
      writeValue(w, f, v, path, lenient);
    }
  }
}

/** encodeMessage writes obj as m; throws NotEncodable when obj has a field m cannot carry. */
export function encodeMessage(obj: Json, m: Message, lenient = false): Uint8Array {
  const w = new FastWriter();
  writeMessage(w, obj, m, "", lenient);
  return w.finish();
}

// --- the envelope ---------------------------------------------------------------------------

export interface Unknown {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

/** unwrap reads the "k8s\0" + runtime.Unknown envelope. */
export function unwrap(body: Uint8Array): Unknown {
  if (body.length < 4 || MAGIC.compare(body, 0, 4) !== 0) throw new Error("missing the k8s protobuf envelope");
  const u: Unknown = { apiVersion: "", kind: "", raw: new Uint8Array(0), contentEncoding: "", contentType: "" };
  const r = Reader.create(body.subarray(4));
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        readSub(r, (t) => {
          if (t === 10) u.apiVersion = r.string();
          else if (t === 18) u.kind = r.string();
          else r.skipType(t & 7);
        });
        break;
      case 18:
        u.raw = r.bytes();
        break;
      case 26:
        u.contentEncoding = r.string();
        break;
      case 34:
        u.contentType = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return u;
}

/** wrap writes the envelope around an encoded object, as upstream's serializer does. */
export function wrap(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const w = new FastWriter();
  w.uint32(10).fork().uint32(10).string(apiVersion).uint32(18).string(kind).ldelim();
  w.uint32(18).bytes(raw);
  w.uint32(26).string("");
  w.uint32(34).string("");
  return Buffer.concat([MAGIC, w.finish()]);
}

/**
 * decode: the JSON object of a protobuf body (apiVersion and kind from the envelope), the paths
 * of fields it carried that the kind has no number for, or undefined when kubeling has no
 * definition for its kind. Throws on a malformed body.
 */
export function decode(body: Uint8Array): { object: Json; unknown: string[] } | undefined {
  const u = unwrap(body);
  if (u.contentEncoding !== "") throw new Error(`unsupported content encoding ${u.contentEncoding}`);
  const m = messageFor(u.apiVersion, u.kind);
  if (!m) return undefined;
  const unknown: string[] = [];
  const obj = decodeMessage(u.raw, m, unknown);
  return { object: { apiVersion: u.apiVersion, kind: u.kind, ...obj }, unknown };
}

/**
 * Each list item's encoding, by the item object: lists answered from the watch cache hand out
 * the cache's own objects, which are never changed in place (a write stores a new object), so a
 * second list of the same objects (informers, kubectl get) copies bytes instead of encoding.
 */
const itemBytes = new WeakMap<object, Uint8Array>();

/** encodeList writes a List: its metadata (1), then each item (2), from itemBytes when it can. */
function encodeList(list: Json, m: Message, item: Message): Uint8Array {
  const w = new FastWriter();
  const { items, ...rest } = list;
  writeMessage(w, rest, m, "", false);
  for (const it of items as unknown[]) {
    if (typeof it !== "object" || it === null || Array.isArray(it)) throw new NotEncodable("items: not an object");
    const b = itemBytes.get(it);
    if (b) {
      w.uint32(18).bytes(b);
      continue;
    }
    // Written in place (no writer of its own), and copied out for the next list.
    w.uint32(18).fork();
    const start = w.length;
    writeMessage(w, it as Json, item, "", false);
    itemBytes.set(it, w.copy(start));
    w.ldelim();
  }
  return w.finish();
}

/**
 * encode: the protobuf body of a JSON object (its apiVersion and kind name the message), or
 * undefined when it cannot be: no definition for the kind, or a field without a number.
 */
export function encode(obj: Json, o: { lenient?: boolean } = {}): Buffer | undefined {
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  const m = messageFor(apiVersion, kind);
  if (!m) return undefined;
  try {
    const items = m.byName.get("items");
    if (kind.endsWith("List") && items?.msg && items.num === 2 && Array.isArray(obj.items) && !o.lenient)
      return wrap(apiVersion, kind, encodeList(obj, m, items.msg));
    return wrap(apiVersion, kind, encodeMessage(obj, m, o.lenient));
  } catch (err) {
    if (err instanceof NotEncodable) return undefined;
    throw err;
  }
}

/** encodeWatchEvent: one watch frame's payload, a metav1.WatchEvent {type, object: RawExtension{raw}}. */
export function encodeWatchEvent(type: string, object: Uint8Array): Uint8Array {
  const w = new FastWriter();
  w.uint32(10).string(type);
  w.uint32(18).fork().uint32(10).bytes(object).ldelim();
  return w.finish();
}

/** decodeWatchEvent reads one frame's payload back (tests and clients). */
export function decodeWatchEvent(payload: Uint8Array): { type: string; object: Uint8Array } {
  const r = Reader.create(payload);
  let type = "";
  let object: Uint8Array = new Uint8Array(0);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 10) type = r.string();
    else if (tag === 18)
      readSub(r, (t) => {
        if (t === 10) object = r.bytes();
        else r.skipType(t & 7);
      });
    else r.skipType(tag & 7);
  }
  return { type, object };
}
