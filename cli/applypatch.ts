// Client-side apply: the three-way patch between the last-applied configuration, the new
// manifest and the live object, as a JSON merge patch (RFC 7386). kubectl computes a
// strategic merge patch; a merge patch with whole lists is accepted for kubeling's apply.
//
// - A field present in last-applied but gone from the manifest becomes null (deleted),
//   if the live object still has it.
// - A field whose manifest value differs from the live value is set.
// - Lists are atomic in a merge patch. A manifest list counts as unchanged when it equals
//   the last-applied list and every element is contained in the live element (the server
//   adds defaults such as imagePullPolicy to containers, which must not look like drift).

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonMap = { [k: string]: Json };

function isMap(v: unknown): v is JsonMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Is every field of `want` present with the same value in `have` (lists element-wise)? */
export function containedIn(want: unknown, have: unknown): boolean {
  if (isMap(want)) {
    if (!isMap(have)) return false;
    return Object.keys(want).every((k) => containedIn(want[k], have[k]));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || want.length !== have.length) return false;
    return want.every((x, i) => containedIn(x, have[i]));
  }
  return want === have;
}

function diffMaps(original: JsonMap | undefined, modified: JsonMap, current: JsonMap | undefined): JsonMap {
  const patch: JsonMap = {};
  for (const [k, mv] of Object.entries(modified)) {
    const cv = current?.[k];
    const ov = original?.[k];
    if (isMap(mv)) {
      if (!isMap(cv)) {
        patch[k] = mv;
        continue;
      }
      const sub = diffMaps(isMap(ov) ? ov : undefined, mv, cv);
      if (Object.keys(sub).length > 0) patch[k] = sub;
    } else if (Array.isArray(mv)) {
      const unchanged = ov !== undefined && deepEqual(ov, mv) && containedIn(mv, cv);
      if (!unchanged && !deepEqual(mv, cv)) patch[k] = mv;
    } else if (mv !== cv) {
      patch[k] = mv;
    }
  }
  // Deletions: fields the user applied before and has now removed.
  if (original) {
    for (const k of Object.keys(original)) {
      if (k in modified) continue;
      if (current && k in current) patch[k] = null;
    }
  }
  return patch;
}

/**
 * The merge patch taking `current` to the state the user declared in `modified`, given
 * what they declared last time (`original`, undefined when the live object lacks the
 * annotation). An empty object means nothing would change.
 */
export function threeWayMergePatch(
  original: Record<string, unknown> | undefined,
  modified: Record<string, unknown>,
  current: Record<string, unknown>,
): Record<string, unknown> {
  return diffMaps(original as JsonMap | undefined, modified as JsonMap, current as JsonMap);
}

/**
 * The manifest as kubectl stores it in the annotation: compact JSON with a trailing
 * newline, without the annotation itself (metadata.annotations kept, possibly empty).
 */
export function lastAppliedValue(manifest: Record<string, unknown>): string {
  const copy = structuredClone(manifest) as JsonMap;
  const meta = isMap(copy.metadata) ? copy.metadata : {};
  const annotations = isMap(meta.annotations) ? { ...meta.annotations } : {};
  delete annotations[LAST_APPLIED];
  meta.annotations = annotations;
  copy.metadata = meta;
  return `${JSON.stringify(copy)}\n`;
}

/** The manifest with its last-applied annotation set: what apply sends and diffs against. */
export function withLastApplied(manifest: Record<string, unknown>): Record<string, unknown> {
  const value = lastAppliedValue(manifest);
  const copy = structuredClone(manifest) as JsonMap;
  const meta = isMap(copy.metadata) ? copy.metadata : {};
  meta.annotations = { ...(isMap(meta.annotations) ? meta.annotations : {}), [LAST_APPLIED]: value };
  copy.metadata = meta;
  return copy;
}

/** The parsed last-applied configuration of a live object, if it has a valid one. */
export function readLastApplied(live: {
  metadata?: { annotations?: Record<string, string> };
}): Record<string, unknown> | undefined {
  const raw = live.metadata?.annotations?.[LAST_APPLIED];
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return isMap(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
