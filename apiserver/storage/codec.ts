// How objects, keys and continue tokens look in storage, shared by the etcd and in-memory
// storages: values are the object's JSON without metadata.resourceVersion (the key's mod
// revision is stamped on the way out), keys are `{prefix}/{resource}/[{namespace}/]{name}`.

import { expired, internalError, type QualifiedResource, StatusError, tooLarge } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ObjectRef } from "./interfaces.js";
import { isEncrypted, type Transformer } from "./value/transformer.js";

/** etcd's default --max-request-bytes; upstream's per-object limit. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

export const CONTINUE_TOO_OLD =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

export function objectKey(prefix: string, ref: ObjectRef): string {
  return ref.namespace
    ? `${prefix}/${ref.r.resource}/${ref.namespace}/${ref.name}`
    : `${prefix}/${ref.r.resource}/${ref.name}`;
}

export function collectionPrefix(prefix: string, r: QualifiedResource, namespace?: string): string {
  return namespace ? `${prefix}/${r.resource}/${namespace}/` : `${prefix}/${r.resource}/`;
}

export function checkPrefix(prefix: string): void {
  if (prefix === "" || prefix.endsWith("/") || !prefix.startsWith("/"))
    throw new Error(`etcd prefix must start with "/" and not end with one: ${JSON.stringify(prefix)}`);
}

interface ContinueToken {
  v: "meta.k8s.io/v1";
  rv: number;
  start: string;
}

export function encodeContinue(rev: number, startKeySuffix: string): string {
  const token: ContinueToken = { v: "meta.k8s.io/v1", rv: rev, start: startKeySuffix };
  return Buffer.from(JSON.stringify(token)).toString("base64");
}

export function decodeContinue(token: string): { rev: number; start: string } {
  let parsed: Partial<ContinueToken>;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as Partial<ContinueToken>;
  } catch {
    throw new StatusError(400, "BadRequest", "continue key is not valid: illegal base64 data or JSON");
  }
  if (parsed.v !== "meta.k8s.io/v1")
    throw new StatusError(400, "BadRequest", "continue key is not valid: server does not recognize this encoding");
  if (typeof parsed.rv !== "number" || parsed.rv <= 0 || typeof parsed.start !== "string")
    throw new StatusError(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion");
  // A relative key must not escape the list's prefix.
  if (parsed.start.startsWith("/") || parsed.start.split("/").includes(".."))
    throw new StatusError(400, "BadRequest", "continue key is not valid: the start key is not a relative path");
  return { rev: parsed.rv, start: parsed.start };
}

/** The smallest key greater than every key starting with prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function tooLargeResourceVersion(rv: number, current: number): StatusError {
  return new StatusError(504, "Timeout", `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

/** A read at a revision that compaction removed. */
export function compactedError(revision: number | undefined): StatusError {
  return expired(`too old resource version: ${revision ?? 0} (the etcd history has been compacted)`);
}

/** Where a value is stored and what it goes through there (encryption at rest; none: plain JSON). */
export interface ValueTarget {
  key: string;
  transformer: Transformer | undefined;
}

/** An object's JSON as stored, before any transformer: without resourceVersion. */
export function serializeObject(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return Buffer.from(JSON.stringify({ ...obj, metadata: meta }));
}

function transformFailed(key: string, err: unknown): StatusError {
  const why = err instanceof Error ? err.message : String(err);
  return internalError(`Internal error occurred: unable to transform key ${JSON.stringify(key)}: ${why}`);
}

/** The bytes written for plain (an object's JSON): through the target's transformer; 413 above etcd's limit. */
export function toStorage(ref: ObjectRef, plain: Buffer, target?: ValueTarget): Buffer {
  let value = plain;
  if (target?.transformer) {
    try {
      value = target.transformer.toStorage(plain, Buffer.from(target.key));
    } catch (err) {
      throw transformFailed(target.key, err);
    }
  }
  // The limit is etcd's, so it counts what etcd gets: an encrypted value is a little longer.
  if (value.length > MAX_OBJECT_BYTES) {
    const what = ref.r.group ? `${ref.r.resource}.${ref.r.group}` : ref.r.resource;
    throw tooLarge(
      `${what} "${ref.name}" is too large: ${value.length} bytes exceeds the ${MAX_OBJECT_BYTES}-byte limit (etcdserver: request is too large)`,
    );
  }
  return value;
}

/** Serialises an object for storage: JSON without resourceVersion, transformed; 413 above the etcd limit. */
export function encodeObject(ref: ObjectRef, obj: KubeObject, target?: ValueTarget): Buffer {
  return toStorage(ref, serializeObject(obj), target);
}

/**
 * The JSON stored at key: the transformer undone, or, without one, checked not to be encrypted
 * (upstream's identity transformer for resources the configuration does not name). 500 when
 * the value cannot be read (a key the configuration no longer has), with upstream's message.
 */
export function fromStorage(key: string, value: Buffer, t: Transformer | undefined): { data: Buffer; stale: boolean } {
  try {
    if (t) return t.fromStorage(value, Buffer.from(key));
  } catch (err) {
    throw transformFailed(key, err);
  }
  // JSON starts with "{": one byte tells the usual case apart.
  if (value[0] === 0x6b && isEncrypted(value))
    throw transformFailed(key, new Error("identity transformer tried to read encrypted data"));
  return { data: value, stale: false };
}

/** Decodes a stored value (plain JSON) and stamps resourceVersion with the given revision. */
export function decodeObject(value: Buffer, rev: number): KubeObject {
  const obj = JSON.parse(value.toString("utf8")) as KubeObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(rev);
  return obj;
}

/** Structural equality of JSON values (object key order ignored, array order significant). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    count++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) count--;
  return count === 0;
}
