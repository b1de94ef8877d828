// The object layer both storages run over their key-value store with revisions: the
// guaranteedUpdate retry loop and paged, filtered lists. The storages supply the two
// primitives (a compare-and-swap commit, a range read), so the two cannot drift apart in the
// semantics clients see (no-op updates, suggestions, dry runs, continue tokens).

import { conflict, expired, isGone, notFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import {
  CONTINUE_TOO_OLD,
  decodeContinue,
  decodeObject,
  encodeContinue,
  encodeObject,
  fromStorage,
  jsonEqual,
  serializeObject,
  toStorage,
  type ValueTarget,
} from "./codec.js";
import {
  CONFLICT_MESSAGE,
  DELETE,
  type DeleteOptions,
  type GuaranteedUpdateOptions,
  type ListPage,
  type ListRequest,
  NO_CHANGE,
  type ObjectRef,
  type Stored,
  type TryUpdate,
  type UpdateResult,
} from "./interfaces.js";
import type { Transformer } from "./value/transformer.js";

/** One key as a range read returns it. */
export interface KeyValue {
  key: string;
  value: Buffer;
  modRev: number;
}

export interface RangeRequest {
  start: Buffer;
  end: Buffer;
  /** 0: no limit. */
  limit: number;
  /** 0: the latest. */
  revision: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** More keys in the range after the last one returned. */
  more: boolean;
  /** Keys in the whole range (from start). */
  count: number;
  /** The revision read at. */
  rev: number;
}

/** What a commit writes: a new value (optionally expiring), or the key's deletion. */
export type Write = { value: Buffer; ttlSeconds?: number | undefined } | typeof DELETE;

/**
 * Writes `write` if the key is still at `current` (mod revision; absent: the key must not
 * exist). On failure returns the key's present state, for the next attempt.
 */
export type Commit = (
  current: Stored | undefined,
  write: Write,
) => Promise<{ succeeded: true; rev: number } | { succeeded: false; current: Stored | undefined }>;

/** Decodes one read key; t is the transformer of its resource (encryption at rest). */
export function storedOf(kv: KeyValue, t: Transformer | undefined): Stored {
  const { data, stale } = fromStorage(kv.key, kv.value, t);
  const stored: Stored = { obj: decodeObject(data, kv.modRev), rev: kv.modRev, raw: data };
  if (stale) stored.stale = true;
  return stored;
}

/**
 * upstream GuaranteedUpdate: tryUpdate sees the current object and returns the new one (or
 * DELETE / NO_CHANGE). When another writer got there first the commit fails with the fresh
 * value and tryUpdate runs again. Decisions made on a suggestion (a possibly stale cached copy)
 * that would end the call without a write are confirmed on a fresh read first.
 */
export async function guaranteedUpdateLoop(
  ref: ObjectRef,
  target: ValueTarget,
  tryUpdate: TryUpdate,
  opts: GuaranteedUpdateOptions,
  get: () => Promise<Stored | undefined>,
  commit: Commit,
): Promise<UpdateResult> {
  const maxRetries = opts.maxRetries ?? 100;
  let fromSuggestion = opts.suggestion !== undefined;
  let current: Stored | undefined = opts.suggestion ?? (await get());
  for (let attempt = 0; ; attempt++) {
    if (!current && !opts.allowCreate) throw notFound(ref.r, ref.name);
    let next: KubeObject | typeof DELETE | typeof NO_CHANGE;
    try {
      next = await tryUpdate(current);
    } catch (err) {
      // A cached copy may be stale: confirm any refusal (a precondition, admission deciding on the
      // old object, validation) against storage before failing, as upstream's GuaranteedUpdate.
      if (fromSuggestion) {
        fromSuggestion = false;
        current = await get();
        continue;
      }
      throw err;
    }
    if (next === NO_CHANGE) {
      if (!current) throw notFound(ref.r, ref.name);
      if (fromSuggestion) {
        // "Nothing to do" decided on a cached copy might be wrong: decide again on a fresh read.
        fromSuggestion = false;
        current = await get();
        continue;
      }
      return { obj: current.obj, rev: current.rev, created: false, deleted: false, written: false };
    }
    if (opts.dryRun) {
      if (fromSuggestion) {
        fromSuggestion = false;
        current = await get();
        continue;
      }
      if (next === DELETE)
        return {
          obj: (current as Stored).obj,
          rev: (current as Stored).rev,
          created: false,
          deleted: true,
          written: false,
        };
      encodeObject(ref, next, target); // the size check still applies
      return { obj: next, rev: current?.rev ?? 0, created: !current, deleted: false, written: false };
    }
    let write: Write;
    if (next === DELETE) {
      if (!current) throw notFound(ref.r, ref.name);
      write = DELETE;
    } else {
      const plain = serializeObject(next);
      // Same content as stored: nothing to write (upstream skips no-op updates too). Bytes first,
      // then structurally (a client may send the same object with its keys in another order).
      // A stale value (an old key's) is written anyway: that is how a rewrite re-encrypts.
      if (current && !current.stale && (current.raw?.equals(plain) || jsonEqual(next, current.obj))) {
        if (fromSuggestion) {
          fromSuggestion = false;
          current = await get();
          continue;
        }
        return { obj: current.obj, rev: current.rev, created: false, deleted: false, written: false };
      }
      write = { value: toStorage(ref, plain, target), ttlSeconds: opts.ttlSeconds };
    }
    const res = await commit(current, write);
    if (res.succeeded) {
      const rev = res.rev;
      if (next === DELETE) {
        const last = (current as Stored).obj;
        last.metadata.resourceVersion = String(rev);
        return { obj: last, rev, created: false, deleted: true, written: true };
      }
      next.metadata.resourceVersion = String(rev);
      return { obj: next, rev, created: !current, deleted: false, written: true };
    }
    if (attempt >= maxRetries) throw conflict(ref.r, ref.name, CONFLICT_MESSAGE);
    fromSuggestion = false;
    current = res.current;
  }
}

/** A delete as a guaranteedUpdate whose callback validates and returns DELETE. */
export function deleteVia(
  guaranteedUpdate: (ref: ObjectRef, tryUpdate: TryUpdate, opts: GuaranteedUpdateOptions) => Promise<UpdateResult>,
  ref: ObjectRef,
  opts: DeleteOptions,
): Promise<UpdateResult> {
  return guaranteedUpdate(
    ref,
    (cur) => {
      opts.validate?.(cur as Stored);
      return DELETE;
    },
    { suggestion: opts.suggestion, dryRun: opts.dryRun === true },
  );
}

/**
 * One page of a collection at a consistent revision. With a filter, keeps reading until the
 * page is full or the range ends, so a selective filter still returns `limit` items.
 */
export async function listPaged(
  req: ListRequest,
  end: Buffer,
  range: (r: RangeRequest) => Promise<RangeResult>,
  transformerFor: (key: string) => Transformer | undefined,
): Promise<ListPage> {
  let start = Buffer.from(req.prefix);
  let revision = req.revision ?? 0;
  if (req.continue) {
    const token = decodeContinue(req.continue);
    start = Buffer.from(req.prefix + token.start);
    revision = token.rev;
  }
  const limit = req.limit && req.limit > 0 ? req.limit : 0;
  const items: Stored[] = [];
  // Without a filter one range answers; with one, pages grow (upstream doubles up to 10000).
  let pageSize = limit;
  for (;;) {
    let res: RangeResult;
    try {
      res = await range({ start, end, limit: pageSize, revision });
    } catch (err) {
      if (req.continue && isGone(err)) throw expired(CONTINUE_TOO_OLD);
      throw err;
    }
    if (!revision) revision = res.rev;
    const kvs = res.kvs;
    for (let i = 0; i < kvs.length; i++) {
      const kv = kvs[i] as KeyValue;
      if (req.keyFilter && !req.keyFilter(kv.key)) continue;
      const stored = storedOf(kv, transformerFor(kv.key));
      stored.key = kv.key;
      if (req.filter && !req.filter(stored.obj)) continue;
      items.push(stored);
      if (limit && items.length === limit) {
        const moreHere = i < kvs.length - 1 || res.more;
        if (!moreHere) return { items, rev: revision };
        const nextKey = `${kv.key.slice(req.prefix.length)}\u0000`;
        const page: ListPage = { items, rev: revision, continue: encodeContinue(revision, nextKey) };
        if (!req.filter && !req.keyFilter) page.remainingItemCount = res.count - (i + 1);
        return page;
      }
    }
    const last = kvs[kvs.length - 1];
    if (!res.more || !last) return { items, rev: revision };
    start = Buffer.concat([Buffer.from(last.key), Buffer.from([0])]);
    pageSize = Math.min(Math.max(pageSize * 2, 500), 10_000);
  }
}
