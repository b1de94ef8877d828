// Protobuf bodies on the API server's wire (application/vnd.kubernetes.protobuf, KUBECTL_WIRE
// 1.3): client-go's typed clients (kubectl 1.32+ `create <generator>`, `auth can-i`, drain...)
// POST them and ask for them in Accept. The codec is pkg/api/protobuf; here are the HTTP ends:
// request decoding with unknown-field paths kept for ?fieldValidation, and response encoding
// with the JSON fallback for kinds (or objects) that have no protobuf definition.

import { decode, encode, encodeWatchEvent } from "#pkg/api/protobuf/codec.js";

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

/** encodeProtobuf: a JSON object's protobuf body, undefined when it has no protobuf form. */
export function encodeProtobuf(obj: unknown): Buffer | undefined {
  if (typeof obj !== "object" || obj === null) return undefined;
  return encode(obj as Record<string, unknown>);
}

/** watchFrame: one protobuf watch frame, 4-byte big-endian length then the WatchEvent. */
export function watchFrame(type: string, object: Buffer): Buffer {
  const ev = encodeWatchEvent(type, object);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(ev.length, 0);
  return Buffer.concat([len, ev]);
}
