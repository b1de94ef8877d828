// Request bodies. Fastify hands every body over as a raw Buffer (one catch-all parser, see
// server.ts); here we decode it by Content-Type, so that every bad body becomes a Status
// (400 malformed, 415 unsupported) instead of a framework error or a 500.
//
// Accepted: application/json, application/yaml, the four patch types, and NO Content-Type at
// all (kubectl's `scale --current-replicas` PUTs /scale without one: treated as JSON).
// Protobuf (application/vnd.kubernetes.protobuf, what client-go's typed clients send: kubectl
// 1.32+ `create <generator>`, KUBECTL_WIRE 1.3) is decoded for every kind with a protobuf
// definition (pkg/api/protobuf), into the JSON object a JSON client would have sent; a kind
// without one is refused with 415.

import { parse as parseYaml } from "yaml";
import { badRequest, type StatusError, unsupportedMediaType } from "#pkg/api/errors.js";
import { decodeProtobuf, PROTOBUF } from "./protobuf.js";
import type { PatchKind } from "./types.js";

export { PROTOBUF };

const PATCH_TYPES: Readonly<Record<string, PatchKind>> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

const WRITE_MEDIA = "application/json, application/yaml";
const PATCH_MEDIA = Object.keys(PATCH_TYPES).join(", ");

/** mediaType returns the lower-cased type/subtype of a Content-Type header, "" when absent. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return "";
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function protobufRefused(what = "this kind"): StatusError {
  return unsupportedMediaType(
    `the body of the request was in an unsupported format (${PROTOBUF}) for ${what}: accepted media types include: ${WRITE_MEDIA}`,
  );
}

function decodeProtobufBody(raw: Buffer | string | undefined, what: string): Record<string, unknown> | undefined {
  try {
    return decodeProtobuf(typeof raw === "string" ? Buffer.from(raw, "binary") : (raw ?? Buffer.alloc(0)));
  } catch (err) {
    throw badRequest(`${what}: protobuf decode error: ${(err as Error).message}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what}: json parse error: ${(err as Error).message}`);
  }
}

function parseYamlText(text: string, what: string): unknown {
  try {
    // JSON is YAML, but JSON.parse is much faster and is what kubectl sends.
    const t = text.trimStart();
    if (t.startsWith("{")) {
      try {
        return JSON.parse(t);
      } catch {
        // fall through: YAML flow mappings also start with "{"
      }
    }
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw badRequest(`${what}: yaml parse error: ${(err as Error).message.split("\n")[0]}`);
  }
}

function text(raw: Buffer | string | undefined): string {
  if (raw === undefined) return "";
  return typeof raw === "string" ? raw : raw.toString("utf8");
}

/**
 * decodeObject decodes a create/update body. `kind` names the expected kind for messages
 * ("the object provided is unrecognized (must be of type Pod)").
 */
export function decodeObject(raw: Buffer | string | undefined, contentType: string | undefined, kind: string): unknown {
  const mt = mediaType(contentType);
  const body = text(raw);
  if (body.trim() === "") throw badRequest(`the object provided is unrecognized (must be of type ${kind}): empty body`);
  const what = `the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind`;
  if (mt === "" || mt === "application/json") return parseJson(body, what);
  if (mt === "application/yaml" || mt === "application/x-yaml" || mt === "text/yaml") return parseYamlText(body, what);
  if (mt === PROTOBUF) {
    const obj = decodeProtobufBody(raw, what);
    if (obj === undefined) throw protobufRefused(kind);
    return obj;
  }
  throw unsupportedMediaType(
    `the body of the request was in an unknown format (${mt}) - accepted media types include: ${WRITE_MEDIA}`,
  );
}

/** decodePatch decodes a PATCH body and tells which patch it is, from the Content-Type. */
export function decodePatch(
  raw: Buffer | string | undefined,
  contentType: string | undefined,
): { kind: PatchKind; patch: unknown } {
  const mt = mediaType(contentType);
  const kind = PATCH_TYPES[mt];
  if (!kind) {
    if (mt === PROTOBUF) throw protobufRefused("patches");
    throw unsupportedMediaType(
      `the body of the request was in an unknown format (${mt || "no Content-Type"}) - accepted media types include: ${PATCH_MEDIA}`,
    );
  }
  const body = text(raw);
  if (body.trim() === "") throw badRequest("the body of the request was empty: a patch is required");
  const patch = kind === "apply" ? parseYamlText(body, "error decoding YAML") : parseJson(body, "error decoding patch");
  if (kind === "json") {
    if (!Array.isArray(patch)) throw badRequest("error decoding patch: a JSON patch must be an array of operations");
  } else if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    throw badRequest(
      `error decoding patch: a ${kind === "apply" ? "server-side apply" : kind} patch must be an object`,
    );
  }
  return { kind, patch };
}

/** decodeOptional decodes an optional JSON body (DeleteOptions on DELETE); undefined when empty. */
export function decodeOptional(raw: Buffer | string | undefined, contentType: string | undefined): unknown {
  const mt = mediaType(contentType);
  if (mt === PROTOBUF) {
    if (raw === undefined || raw.length === 0) return undefined;
    const obj = decodeProtobufBody(raw, "couldn't decode DeleteOptions");
    if (obj === undefined) throw protobufRefused("DeleteOptions");
    return obj;
  }
  const body = text(raw);
  if (body.trim() === "") return undefined;
  if (mt === "application/yaml") return parseYamlText(body, "couldn't decode DeleteOptions");
  return parseJson(body, "couldn't decode DeleteOptions");
}
