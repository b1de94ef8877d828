// Content negotiation on the Accept header: plain JSON, protobuf (client-go's typed clients
// send `application/vnd.kubernetes.protobuf,application/json`), a meta.k8s.io Table (kubectl's
// human output), or aggregated discovery (apidiscovery.k8s.io v2 / v2beta1). Clients send a
// handful of distinct Accept strings, so results are memoised per string.

export type Negotiated =
  | { type: "json" }
  /** acceptsJson: the client listed JSON too, so a kind without protobuf form may answer JSON. */
  | { type: "protobuf"; acceptsJson: boolean }
  | { type: "table"; version: "v1" | "v1beta1" }
  | { type: "discovery"; version: "v2" | "v2beta1" }
  /**
   * Only forms that do not exist were asked for: a meta.k8s.io Table in protobuf (upstream's
   * AllowsMediaTypeTransform gives Tables in JSON and YAML only). The answer is 406.
   */
  | { type: "unacceptable" };

const JSON_RESULT: Negotiated = { type: "json" };
const UNACCEPTABLE: Negotiated = { type: "unacceptable" };

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";");
    const m: MediaRange = { type: type.trim().toLowerCase(), params: new Map() };
    for (const p of params) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      m.params.set(
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ""),
      );
    }
    out.push(m);
  }
  return out;
}

const PROTOBUF_MEDIA = "application/vnd.kubernetes.protobuf";

function compute(accept: string): Negotiated {
  // First match in the client's order wins: kubectl lists its preference first.
  const ranges = parseAccept(accept);
  let protobufTable = false;
  for (const m of ranges) {
    if (m.type === PROTOBUF_MEDIA && m.params.get("as") === "Table") protobufTable = true;
    if (m.type === PROTOBUF_MEDIA && !m.params.has("as")) {
      const acceptsJson = ranges.some(
        (r) => (r.type === "application/json" || r.type === "*/*" || r.type === "application/*") && !r.params.has("as"),
      );
      return { type: "protobuf", acceptsJson };
    }
    if (m.type !== "application/json" && m.type !== "*/*" && m.type !== "application/*") continue;
    const as = m.params.get("as");
    if (as === undefined) return JSON_RESULT;
    const g = m.params.get("g");
    const v = m.params.get("v");
    if (as === "Table" && g === "meta.k8s.io" && (v === "v1" || v === "v1beta1")) return { type: "table", version: v };
    if (as === "APIGroupDiscoveryList" && g === "apidiscovery.k8s.io" && (v === "v2" || v === "v2beta1")) {
      return { type: "discovery", version: v };
    }
    // Another "as=" we don't serve (e.g. PartialObjectMetadata): try the next range.
  }
  // Nothing matched: a client that asked for a Table only in protobuf cannot have it.
  return protobufTable ? UNACCEPTABLE : JSON_RESULT;
}

const cache = new Map<string, Negotiated>();

/** negotiate maps an Accept header to what to answer; unknown or absent means plain JSON. */
export function negotiate(accept: string | undefined): Negotiated {
  if (!accept || accept === "application/json" || accept === "*/*") return JSON_RESULT;
  let r = cache.get(accept);
  if (r === undefined) {
    r = compute(accept);
    if (cache.size > 256) cache.clear(); // bounded: headers are client-controlled
    cache.set(accept, r);
  }
  return r;
}

export function tableContentType(version: "v1" | "v1beta1"): string {
  return `application/json;as=Table;v=${version};g=meta.k8s.io`;
}

export function discoveryContentType(version: "v2" | "v2beta1"): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}
