// Protobuf bodies on the API server's wire (application/vnd.kubernetes.protobuf, KUBECTL_WIRE
// 1.3): client-go's typed clients (kubectl 1.32+ `create <generator>`, `auth can-i`, drain...)
// POST them and ask for them in Accept. The codec is pkg/api/protobuf; here are the HTTP ends:
// request decoding with unknown-field paths kept for ?fieldValidation, and response encoding
// with the JSON fallback for kinds (or objects) that have no protobuf definition.

import { StatusError } from "#pkg/api/errors.js";
import { decode, encode, encodeWatchEvent } from "#pkg/api/protobuf/codec.js";
import { negotiate } from "./negotiate.js";
import { JSON_TYPE } from "./status.js";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
export const PROTOBUF_WATCH = "application/vnd.kubernetes.protobuf;stream=watch";

/** Unknown fields of decoded protobuf bodies, by the decoded object (checkFields reads them). */
const unknownOf = new WeakMap<object, string[]>();

/**
 * decodeProtobuf: the JSON object of a protobuf body, or undefined when its kind has no
 * definition (the caller answers 415). Throws on a malformed body.
 */
export function decodeProtobuf(raw: Buffer): Record<string, unknown> | undefined {
  const r = decode(raw);
  if (!r) return undefined;
  if (r.unknown.length > 0) unknownOf.set(r.object, r.unknown);
  return r.object;
}

/** protobufUnknownFields: the fields a protobuf body carried that its kind has no number for. */
export function protobufUnknownFields(obj: unknown): string[] {
  return (typeof obj === "object" && obj !== null && unknownOf.get(obj)) || [];
}

/**
 * encodeProtobuf: a JSON object's protobuf body, undefined when it has no protobuf form.
 * `lenient` leaves out fields without a number instead (watch streams cannot switch to JSON).
 */
export function encodeProtobuf(obj: unknown, o: { lenient?: boolean } = {}): Buffer | undefined {
  if (typeof obj !== "object" || obj === null) return undefined;
  return encode(obj as Record<string, unknown>, o);
}

export function notAcceptable(): StatusError {
  return new StatusError(
    406,
    "NotAcceptable",
    `only the following media types are accepted: ${JSON_TYPE}, application/yaml, ${PROTOBUF}`,
  );
}

/**
 * serialize answers body in what the Accept header prefers: protobuf when asked for and the
 * object has a protobuf form, else JSON when the client takes it (406 when it does not).
 * `status` is for error answers, which fall back to JSON whatever the client said.
 */
export function serialize(
  accept: string | undefined,
  body: unknown,
  o: { status?: boolean } = {},
): { contentType: string; payload: Buffer } {
  const n = negotiate(accept);
  if (n.type === "unacceptable" && !o.status) throw notAcceptable();
  if (n.type === "protobuf") {
    const pb = encodeProtobuf(body);
    if (pb) return { contentType: PROTOBUF, payload: pb };
    if (!n.acceptsJson && !o.status) throw notAcceptable();
  }
  return { contentType: JSON_TYPE, payload: Buffer.from(JSON.stringify(body)) };
}

/** watchFrame: one protobuf watch frame, 4-byte big-endian length then the WatchEvent. */
export function watchFrame(type: string, object: Buffer): Buffer {
  const ev = encodeWatchEvent(type, object);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(ev.length, 0);
  return Buffer.concat([len, ev]);
}
