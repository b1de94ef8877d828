// The pod-template-hash (upstream pkg/controller/controller_utils.go ComputeHash and
// apimachinery's rand.SafeEncodeString): a short, stable name suffix for a Deployment's
// ReplicaSet of one pod template. Upstream feeds a Go-specific dump of the template into FNV-1a
// (32 bit); kubeling hashes the template's canonical JSON (keys sorted) instead, then encodes the
// decimal digits of the hash with upstream's alphabet, so names look like upstream's.

import { canonicalJSON } from "#pkg/api/template-patch.js";
import type { PodTemplateSpec } from "#pkg/api/types/core.js";

export { canonicalJSON };

/** Upstream rand's alphanums: no vowels (no words) and no look-alike characters. */
export const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** fnv32a continues an FNV-1a 32-bit hash over bytes (start from the offset basis). */
export function fnv32a(bytes: Uint8Array, h = FNV32_OFFSET): number {
  let hash = h >>> 0;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, FNV32_PRIME) >>> 0;
  }
  return hash;
}

/** safeEncodeString maps each character onto SAFE_ALPHABET (upstream rand.SafeEncodeString). */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/**
 * computeHash: the pod-template-hash of a template, with the Deployment's collisionCount mixed
 * in when set (as upstream: its value as 8 little-endian bytes, the upper four zero), so a hash
 * collision is resolved by bumping status.collisionCount.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJSON(template ?? {})));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}
