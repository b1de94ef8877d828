// Just enough of Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf) for the
// bodies kubectl 1.32+ typed clients POST where kubeling decodes them: the "k8s\0" envelope, a
// runtime.Unknown {typeMeta, raw}, and the RBAC kinds (k8s.io/api/rbac/v1/generated.proto) with
// ObjectMeta's plain fields. Why RBAC: the kubectl dispatcher reads `create rolebinding --user=x`'s
// --user as a kubeconfig user, cannot ask the server's version with it, and falls back to its own
// kubectl 1.32, which sends protobuf (KUBECTL_WIRE 1.3). Go's marshaller writes empty optional
// strings: they are dropped, as JSON's omitempty would; empty strings inside repeated fields
// (apiGroups [""]) are values and kept.

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

type Field = { num: number; wire: number; value: bigint | Buffer };

/** The fields of one message, in order (varint, 64-bit, length-delimited, 32-bit). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++] as number;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const num = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ num, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error("truncated field");
      out.push({ num, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytesOf = (f: Field): Buffer => (Buffer.isBuffer(f.value) ? f.value : Buffer.alloc(0));
const str = (f: Field) => bytesOf(f).toString("utf8");

type Decoder = (buf: Buffer) => Record<string, unknown>;

/** A message of string, repeated-string, message and map fields, by field number. */
function message(spec: Record<number, [string, "string" | "strings" | "map" | Decoder | [Decoder]]>): Decoder {
  return (buf) => {
    const obj: Record<string, unknown> = {};
    for (const f of fields(buf)) {
      const s = spec[f.num];
      if (!s || f.wire !== 2) continue;
      const [name, kind] = s;
      if (kind === "string") {
        const v = str(f);
        if (v !== "") obj[name] = v;
      } else if (kind === "strings") {
        obj[name] = [...((obj[name] as string[] | undefined) ?? []), str(f)];
      } else if (kind === "map") {
        const entry = fields(bytesOf(f));
        const k = entry.find((e) => e.num === 1);
        const v = entry.find((e) => e.num === 2);
        const m = (obj[name] as Record<string, string> | undefined) ?? {};
        m[k ? str(k) : ""] = v ? str(v) : "";
        obj[name] = m;
      } else if (Array.isArray(kind)) {
        obj[name] = [...((obj[name] as unknown[] | undefined) ?? []), (kind[0] as Decoder)(bytesOf(f))];
      } else {
        obj[name] = kind(bytesOf(f));
      }
    }
    return obj;
  };
}

/** ObjectMeta's fields a create carries (system fields are the server's to set anyway). */
const objectMeta = message({
  1: ["name", "string"],
  2: ["generateName", "string"],
  3: ["namespace", "string"],
  11: ["labels", "map"],
  12: ["annotations", "map"],
  14: ["finalizers", "strings"],
});
const labelSelectorRequirement = message({ 1: ["key", "string"], 2: ["operator", "string"], 3: ["values", "strings"] });
const labelSelector = message({ 1: ["matchLabels", "map"], 2: ["matchExpressions", [labelSelectorRequirement]] });
const policyRule = message({
  1: ["verbs", "strings"],
  2: ["apiGroups", "strings"],
  3: ["resources", "strings"],
  4: ["resourceNames", "strings"],
  5: ["nonResourceURLs", "strings"],
});
const subject = message({
  1: ["kind", "string"],
  2: ["apiGroup", "string"],
  3: ["name", "string"],
  4: ["namespace", "string"],
});
const roleRef = message({ 1: ["apiGroup", "string"], 2: ["kind", "string"], 3: ["name", "string"] });
const binding = message({ 1: ["metadata", objectMeta], 2: ["subjects", [subject]], 3: ["roleRef", roleRef] });

const KINDS: Record<string, Decoder> = {
  "rbac.authorization.k8s.io/v1/Role": message({ 1: ["metadata", objectMeta], 2: ["rules", [policyRule]] }),
  "rbac.authorization.k8s.io/v1/ClusterRole": message({
    1: ["metadata", objectMeta],
    2: ["rules", [policyRule]],
    3: ["aggregationRule", message({ 1: ["clusterRoleSelectors", [labelSelector]] })],
  }),
  "rbac.authorization.k8s.io/v1/RoleBinding": binding,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": binding,
};

/**
 * decodeProtobuf: the object of a protobuf body, or undefined when it is not one of the kinds
 * above (the caller answers 415). Throws on a malformed body.
 */
export function decodeProtobuf(raw: Buffer): Record<string, unknown> | undefined {
  if (raw.length < 4 || MAGIC.some((b, i) => raw[i] !== b)) throw new Error("missing the k8s protobuf envelope");
  const unknown = fields(raw.subarray(4));
  const typeMeta = unknown.find((f) => f.num === 1);
  const body = unknown.find((f) => f.num === 2);
  const tm = typeMeta ? message({ 1: ["apiVersion", "string"], 2: ["kind", "string"] })(bytesOf(typeMeta)) : {};
  const decode = KINDS[`${tm.apiVersion}/${tm.kind}`];
  if (!decode) return undefined;
  return { apiVersion: tm.apiVersion, kind: tm.kind, ...decode(body ? bytesOf(body) : Buffer.alloc(0)) };
}
