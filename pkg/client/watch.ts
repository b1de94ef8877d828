// watchWithResume: list-then-watch that survives the network, as client-go's Reflector.ListAndWatch.
// It tracks the newest resourceVersion seen (objects and BOOKMARKs), re-opens a dropped watch
// from there with backoff, and when the server answers 410 Gone/Expired (the RV was compacted
// away) it re-lists and yields a RELIST marker carrying the full list, so a cache can replace
// its contents and notice deletions it missed.

import type { Logger } from "pino";
import { isGone } from "../api/errors.js";
import type { KubeObject, ListOptions, WatchEvent } from "../api/meta.js";
import type { ResourceType } from "../api/resources.js";
import { Backoff } from "../flowcontrol/backoff.js";
import { type Clock, realClock } from "../runtime/clock.js";
import { silentLogger } from "../runtime/log.js";
import type { ApiClient } from "./client.js";

/** Synthetic event: the complete current state, as of resourceVersion. Replaces everything seen before. */
export interface RelistEvent<T> {
  type: "RELIST";
  items: T[];
  resourceVersion: string;
}

export type ResumableEvent<T> = WatchEvent<T> | RelistEvent<T>;

export interface WatchWithResumeOptions extends Pick<ListOptions, "labelSelector" | "fieldSelector"> {
  /**
   * Start watching after this resourceVersion without listing first. When absent, the stream
   * begins with a RELIST (list from the watch cache, resourceVersion "0").
   */
  resourceVersion?: string;
  /** Server-side watch timeout; default random 300..600 s as client-go, so watches spread out. */
  timeoutSeconds?: number;
  /** Page size of re-lists (consistent reads); default 500. */
  pageSize?: number;
  clock?: Clock;
  log?: Logger;
  /** Backoff after failures: initialMs doubling up to maxMs (client-go: 800 ms .. 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
}

/** Lists every page; all pages share the first page's snapshot resourceVersion. */
async function listAll<T extends KubeObject>(
  client: ApiClient,
  r: ResourceType<T>,
  ns: string | undefined,
  o: WatchWithResumeOptions,
  resourceVersion: string,
  signal: AbortSignal | undefined,
): Promise<{ items: T[]; resourceVersion: string }> {
  const so = signal ? { signal } : {};
  const base: ListOptions = {
    ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
    ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
  };
  // resourceVersion "0" is served whole from the watch cache (limit ignored upstream); page otherwise.
  if (resourceVersion === "0") {
    const list = await client.list<T>(r, ns, { ...base, resourceVersion: "0" }, so);
    return { items: list.items, resourceVersion: list.metadata.resourceVersion ?? "" };
  }
  const items: T[] = [];
  let snapshotRv = "";
  let cont: string | undefined;
  do {
    const list = await client.list<T>(r, ns, {
      ...base,
      limit: o.pageSize ?? 500,
      ...(cont ? { continue: cont } : {}),
    });
    if (!snapshotRv) snapshotRv = list.metadata.resourceVersion ?? "";
    items.push(...list.items);
    cont = list.metadata.continue || undefined;
  } while (cont);
  return { items, resourceVersion: snapshotRv };
}

export async function* watchWithResume<T extends KubeObject = KubeObject>(
  client: ApiClient,
  r: ResourceType<T>,
  ns: string | undefined,
  opts: WatchWithResumeOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<ResumableEvent<T>, void, undefined> {
  const clock = opts.clock ?? realClock;
  const log = (opts.log ?? silentLogger).child({ resource: r.resource, namespace: ns });
  // One key: the delay doubles with every failure in a row and starts over with the next event.
  const delays = new Backoff(opts.backoff?.initialMs ?? 800, opts.backoff?.maxMs ?? 30_000, clock);
  const backoff = () => clock.sleep(delays.next(""), signal);

  let rv = opts.resourceVersion || undefined;
  let needList = !rv;
  // First list may come from the watch cache; after a 410 ask for a consistent (quorum) read.
  let listFrom = "0";
  let goneInARow = 0;

  while (!signal?.aborted && !client.closed) {
    if (needList) {
      let listed: { items: T[]; resourceVersion: string };
      try {
        listed = await listAll<T>(client, r, ns, opts, listFrom, signal);
      } catch (err) {
        if (signal?.aborted || client.closed) return;
        // An expired continue token or a failing server: retry the whole list later.
        log.warn({ err }, "list failed; retrying with backoff");
        if (isGone(err)) listFrom = "";
        await backoff();
        continue;
      }
      rv = listed.resourceVersion;
      needList = false;
      // List items come without kind/apiVersion on the wire; controllers need them (owner
      // references, events), so fill them in from the resource, as watch events carry them.
      const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
      for (const item of listed.items) {
        if (!item.kind) item.kind = r.kind;
        if (!item.apiVersion) item.apiVersion = apiVersion;
      }
      yield { type: "RELIST", items: listed.items, resourceVersion: listed.resourceVersion };
      if (signal?.aborted) return;
    }

    let received = 0;
    try {
      const timeoutSeconds = opts.timeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
      const stream = client.watch<T>(
        r,
        ns,
        {
          ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
          ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
          ...(rv ? { resourceVersion: rv } : {}),
          allowWatchBookmarks: true,
          timeoutSeconds,
        },
        signal,
      );
      for await (const ev of stream) {
        received++;
        delays.reset("");
        goneInARow = 0;
        const evRv = ev.object?.metadata?.resourceVersion;
        if (evRv) rv = evRv;
        yield ev;
      }
      if (signal?.aborted) return;
      // A clean end is the server's timeoutSeconds (or a proxy) closing: re-watch from rv. An
      // immediately empty stream, though, is treated as a failure so we never spin.
      if (received === 0) {
        log.debug({ resourceVersion: rv }, "watch closed without events; re-watching after backoff");
        await backoff();
      }
    } catch (err) {
      if (signal?.aborted || client.closed) return;
      if (isGone(err)) {
        log.info({ resourceVersion: rv, err: (err as Error).message }, "watch expired; re-listing");
        needList = true;
        listFrom = "";
        // Relist at once the first time; if the fresh RV expires again at once, back off.
        if (goneInARow++ > 0) await backoff();
        continue;
      }
      log.warn({ err, resourceVersion: rv }, "watch failed; resuming with backoff");
      await backoff();
    }
  }
}
