// The Events section every describer ends with (kubectl's DescribeEvents).

import type { KubeObject } from "#pkg/api/meta.js";
import { EVENTS } from "#pkg/api/resources.js";
import type { Event } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { since } from "../format.js";
import type { PrefixWriter } from "./writer.js";

/** Events about an object, by involvedObject field selector; undefined if the list fails. */
export async function eventsFor(client: ApiClient, obj: KubeObject, kind: string): Promise<Event[] | undefined> {
  const m = obj.metadata;
  const fields = [
    `involvedObject.name=${m.name ?? ""}`,
    `involvedObject.namespace=${m.namespace ?? ""}`,
    `involvedObject.kind=${kind}`,
    ...(m.uid ? [`involvedObject.uid=${m.uid}`] : []),
  ];
  try {
    const list = await client.list(EVENTS, m.namespace || undefined, { fieldSelector: fields.join(",") });
    return list.items;
  } catch {
    return undefined;
  }
}

function lastSeen(e: Event): string | undefined {
  return (
    e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp
  );
}

export function describeEvents(w: PrefixWriter, events: Event[] | undefined, now = Date.now()): void {
  if (!events || events.length === 0) {
    w.write(0, "Events:\t<none>\n");
    return;
  }
  w.flush();
  const sorted = [...events].sort((a, b) => Date.parse(lastSeen(a) ?? "") - Date.parse(lastSeen(b) ?? ""));
  w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
  w.write(1, "----\t------\t----\t----\t-------\n");
  for (const e of sorted) {
    const first = since(e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? undefined, now);
    let interval = first;
    if (e.series?.count) {
      interval = `${since(e.series.lastObservedTime, now)} (x${e.series.count} over ${first})`;
    } else if ((e.count ?? 0) > 1) {
      interval = `${since(e.lastTimestamp ?? undefined, now)} (x${e.count} over ${first})`;
    }
    const source = e.source?.component || e.reportingComponent || "";
    w.write(1, `${e.type ?? ""}\t${e.reason ?? ""}\t${interval}\t${source}\t${(e.message ?? "").trim()}\n`);
  }
}
