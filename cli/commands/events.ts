// Events in time order: `kubeling events` (kubectl events: LAST SEEN TYPE REASON OBJECT MESSAGE,
// sorted by when each event last happened, --for TYPE/NAME, --types, -w), and the sorting that
// `get --sort-by=<jsonpath>` (kubectl's SortingPrinter) and `get events` share.

import type { KubeObject, ListOptions } from "#pkg/api/meta.js";
import { EVENTS } from "#pkg/api/resources.js";
import type { Event } from "#pkg/api/types/index.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { since } from "../format.js";
import { jsonpath } from "../jsonpath.js";
import { asPrintable, toJson, toYaml } from "../printers.js";
import { resolveType } from "../resources.js";
import { GET_TABWRITER, TabWriter } from "../tabwriter.js";

/** kubectl events' eventTime: series.lastObservedTime, else lastTimestamp, else eventTime. */
export function eventTime(e: Event): number {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? undefined;
  const ms = t ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** Events oldest first (stable: equal times keep the server's order), as kubectl events sorts. */
export function sortEvents<T extends Event>(events: readonly T[]): T[] {
  return events
    .map((e, i) => ({ e, i, t: eventTime(e) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
}

/** RelaxedJSONPathExpression: ".a.b", "a.b" and "{.a.b}" all mean "{.a.b}". */
export function relaxedJsonPath(field: string): string {
  const f = field.trim();
  if (f.startsWith("{") && f.endsWith("}")) return f;
  if (f === "") throw new CliError("error: jsonpath expression cannot be empty");
  return `{${f.startsWith(".") ? f : `.${f}`}}`;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Natural order (digit runs compared as numbers), kubectl's sortorder.NaturalLess. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i] ?? "";
    const y = rb[i] ?? "";
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/** kubectl get --sort-by: objects ordered by a jsonpath value (numbers numerically, text naturally). */
export function sortByField<T>(items: readonly T[], field: string, objectOf: (item: T) => unknown): T[] {
  const template = relaxedJsonPath(field);
  const keyed = items.map((item, i) => ({ item, i, v: jsonpath(template, objectOf(item)) }));
  keyed.sort((a, b) => {
    if (a.v === b.v) return a.i - b.i;
    if (a.v === "" || b.v === "") return a.v === "" ? -1 : 1;
    const c = NUMBER.test(a.v) && NUMBER.test(b.v) ? Number(a.v) - Number(b.v) : naturalCompare(a.v, b.v);
    return c || a.i - b.i;
  });
  return keyed.map((x) => x.item);
}

/** kubectl events' LAST SEEN cell. */
export function lastSeen(e: Event, now = Date.now()): string {
  const first = since(e.eventTime ?? e.firstTimestamp ?? undefined, now);
  if (e.series) return `${since(e.series.lastObservedTime, now)} (x${e.series.count ?? 0} over ${first})`;
  if ((e.count ?? 0) > 1) return `${since(e.lastTimestamp ?? undefined, now)} (x${e.count} over ${first})`;
  return first;
}

/** escapeCell: a cell ends at the first line break, marked "...". */
function cell(s: string | undefined): string {
  const v = s ?? "";
  const i = v.search(/[\f\n\r]/);
  return i >= 0 ? `${v.slice(0, i)}...` : v;
}

/** kubectl events' table rows (tab-separated, with the header unless noHeaders). */
export function eventRows(
  events: readonly Event[],
  o: { allNamespaces: boolean; header: boolean },
  now = Date.now(),
): string {
  let out = "";
  if (o.header) out += `${o.allNamespaces ? "NAMESPACE\t" : ""}LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n`;
  for (const e of events) {
    out += `${o.allNamespaces ? `${e.metadata.namespace ?? ""}\t` : ""}${lastSeen(e, now)}\t${cell(e.type)}\t${cell(e.reason)}\t${cell(e.involvedObject?.kind)}/${cell(e.involvedObject?.name)}\t${cell((e.message ?? "").trim())}\n`;
  }
  return out;
}

export interface EventsOptions {
  for?: string;
  types?: string[];
  noHeaders?: boolean;
}

/** kubeling events [--for TYPE/NAME] [--types Normal,Warning] [-A] [-w] [-o yaml|json]. */
export async function runEvents(ctx: CliContext, o: EventsOptions): Promise<number> {
  const types = [...new Set((o.types ?? []).flatMap((t) => t.split(",")).filter((t) => t !== ""))].sort();
  for (const t of types) {
    if (!["normal", "warning"].includes(t.toLowerCase()))
      throw new CliError("error: valid --types are Normal or Warning");
  }
  const lo: ListOptions = {};
  if (o.for) {
    const parts = o.for.split("/");
    if (parts.length === 1) throw new CliError("error: --for must be in resource/name form");
    if (parts.length !== 2)
      throw new CliError("error: arguments in resource/name form may not have more than one slash");
    const r = resolveType(parts[0] ?? "");
    lo.fieldSelector = `involvedObject.kind=${r.kind},involvedObject.name=${parts[1] ?? ""}`;
  }
  const all = Boolean(ctx.opts.allNamespaces);
  const ns = all ? undefined : ctx.namespace;
  const wanted = (e: Event) =>
    types.length === 0 || types.some((t) => t.toLowerCase() === (e.type ?? "").toLowerCase());
  const output = ctx.opts.output;
  if (output !== undefined && output !== "yaml" && output !== "json")
    throw new CliError(
      `error: unable to match a printer suitable for the output format "${output}", allowed formats are: json,yaml`,
    );

  if (ctx.opts.watch) {
    let header = !o.noHeaders;
    for await (const ev of ctx.client.watch(EVENTS, ns, lo)) {
      // Events are deleted after their TTL: not worth a line.
      if (ev.type === "DELETED" || ev.type === "BOOKMARK" || !wanted(ev.object)) continue;
      if (output) {
        ctx.print(printable(ctx, [ev.object], false));
        continue;
      }
      const w = new TabWriter(GET_TABWRITER);
      w.write(eventRows([ev.object], { allNamespaces: all, header }));
      header = false;
      ctx.print(w.flush());
    }
    return 0;
  }

  const items: Event[] = [];
  let cont: string | undefined;
  do {
    const page = await ctx.client.list(EVENTS, ns, { ...lo, limit: 500, ...(cont ? { continue: cont } : {}) });
    items.push(...page.items);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  const events = sortEvents(items.filter(wanted));
  if (events.length === 0) {
    ctx.printErr(all ? "No events found.\n" : `No events found in ${ctx.namespace} namespace.\n`);
    return 0;
  }
  if (output) {
    ctx.print(printable(ctx, events, true));
    return 0;
  }
  const w = new TabWriter(GET_TABWRITER);
  w.write(eventRows(events, { allNamespaces: all, header: !o.noHeaders }));
  ctx.print(w.flush());
  return 0;
}

function printable(ctx: CliContext, events: Event[], list: boolean): string {
  const typed = events.map((e) => ({ ...e, apiVersion: e.apiVersion ?? "v1", kind: e.kind ?? "Event" }) as KubeObject);
  const value = list
    ? { apiVersion: "v1", kind: "EventList", items: typed.map((e) => asPrintable([e], false)), metadata: {} }
    : asPrintable(typed, false);
  return ctx.opts.output === "json" ? toJson(value) : toYaml(value);
}
