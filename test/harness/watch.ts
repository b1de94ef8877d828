// Waiting on what the API server reports by watching, not polling: list once, then watch from
// that list's resourceVersion until an object satisfies the condition, with a deadline.

import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceType } from "#pkg/api/resources.js";
import type { ApiClient } from "#pkg/client/client.js";

export interface WatchUntilOptions {
  /** Only this object (a metadata.name field selector). */
  name?: string;
  labelSelector?: string;
  /** Default 10 s. */
  timeoutMs?: number;
  message?: string;
}

/**
 * watchUntil: resolves with the objects of r in ns (the named one, or all matching the label
 * selector) as soon as `done(objects)` holds for them; throws at the deadline with the last
 * state seen. `done` sees the whole current set after every event, so deletions count too.
 */
export async function watchUntil<T extends KubeObject>(
  client: ApiClient,
  r: ResourceType<T>,
  ns: string | undefined,
  done: (objects: T[]) => boolean,
  o: WatchUntilOptions = {},
): Promise<T[]> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const opts = {
    ...(o.name ? { fieldSelector: `metadata.name=${o.name}` } : {}),
    ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
  };
  const list = await client.list(r, ns, opts);
  const objects = new Map<string, T>();
  const key = (obj: KubeObject) => `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
  for (const item of list.items) objects.set(key(item), item);
  const current = () => [...objects.values()].sort((a, b) => key(a).localeCompare(key(b)));
  if (done(current())) return current();
  try {
    for await (const ev of client.watch(r, ns, { ...opts, resourceVersion: list.metadata.resourceVersion }, signal)) {
      if (ev.type === "ADDED" || ev.type === "MODIFIED") objects.set(key(ev.object), ev.object);
      else if (ev.type === "DELETED") objects.delete(key(ev.object));
      else continue;
      if (done(current())) return current();
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  throw new Error(
    `watchUntil ${r.resource}${o.name ? `/${o.name}` : ""}: ${o.message ?? "condition"} not met within ${timeoutMs} ms; last seen: ${JSON.stringify(current())}`,
  );
}
