// kubeling get: server-side Tables printed like kubectl, or objects as yaml/json/name; -w
// follows a table watch and prints one row per event.

import { isNotFound, type Status } from "#pkg/api/errors.js";
import type { KubeObject, ListOptions } from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import { TABLE_ACCEPT, type Table } from "#pkg/api/table.js";
import type { Event } from "#pkg/api/types/index.js";
import type { CliContext } from "../context.js";
import { CliError, formatError } from "../errors.js";
import { jsonpath } from "../jsonpath.js";
import { asPrintable, type TableFormat, tableHeader, tableRows, toJson, toYaml } from "../printers.js";
import { kindPrefix, parseTypeArgs, type TypeRequest } from "../resources.js";
import { GET_TABWRITER, TabWriter } from "../tabwriter.js";
import { sortByField, sortEvents } from "./events.js";

export interface GetOptions {
  showLabels?: boolean;
  watchOnly?: boolean;
  noHeaders?: boolean;
  /** --sort-by: a jsonpath over each object (kubectl's SortingPrinter). */
  sortBy?: string;
}

const OUTPUTS = ["json", "name", "wide", "yaml"];

/** -o forms that print objects (not server tables). */
function isObjectOutput(output: string | undefined): output is string {
  return (
    output === "yaml" ||
    output === "json" ||
    output === "name" ||
    (output !== undefined && (output.startsWith("jsonpath=") || output.startsWith("custom-columns=")))
  );
}

export function checkOutput(output: string | undefined): void {
  if (output === undefined || OUTPUTS.includes(output)) return;
  if (output.startsWith("jsonpath=") || output.startsWith("custom-columns=")) return;
  throw new CliError(
    `error: unable to match a printer suitable for the output format "${output}", allowed formats are: custom-columns,${OUTPUTS.join(",")},jsonpath`,
  );
}

/** custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image */
function customColumns(spec: string, objects: KubeObject[]): string {
  const cols = spec.split(",").map((c) => {
    const colon = c.indexOf(":");
    if (colon <= 0)
      throw new CliError(`error: unexpected custom-columns spec: ${c}, expected <header>:<json-path-expr>`);
    const path = c.slice(colon + 1).trim();
    return { header: c.slice(0, colon), template: path.startsWith("{") ? path : `{${path}}` };
  });
  const w = new TabWriter({ ...GET_TABWRITER, rememberWidths: false });
  w.write(`${cols.map((c) => c.header).join("\t")}\n`);
  for (const obj of objects) {
    w.write(`${cols.map((c) => jsonpath(c.template, obj, ",") || "<none>").join("\t")}\n`);
  }
  return w.flush();
}

function listOpts(ctx: CliContext): ListOptions {
  const o: ListOptions = {};
  if (ctx.opts.selector) o.labelSelector = ctx.opts.selector;
  if (ctx.opts.fieldSelector) o.fieldSelector = ctx.opts.fieldSelector;
  return o;
}

/** Namespace for a request: undefined means all namespaces (or a cluster-scoped resource). */
function nsFor(ctx: CliContext, r: ResourceInfo, named: boolean): string | undefined {
  if (!r.namespaced) return undefined;
  if (ctx.opts.allNamespaces && !named) return undefined;
  return ctx.namespace;
}

export function noResourcesMessage(ctx: CliContext, types: ResourceInfo[]): string {
  const namespaced = types.some((r) => r.namespaced);
  if (ctx.opts.allNamespaces || !namespaced) return "No resources found\n";
  return `No resources found in ${ctx.namespace} namespace.\n`;
}

async function tableOf(
  ctx: CliContext,
  r: ResourceInfo,
  ns: string | undefined,
  o: { fullObjects?: boolean } = {},
): Promise<Table> {
  let table: Table | undefined;
  let cont: string | undefined;
  do {
    const page: Table = await ctx.client.table(r, ns, {
      ...listOpts(ctx),
      limit: 500,
      ...(cont ? { continue: cont } : {}),
      ...(o.fullObjects ? { includeObject: "Object" as const } : {}),
    });
    if (!table) table = page;
    else table.rows.push(...page.rows);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return table;
}

interface Block {
  req: TypeRequest;
  table: Table;
}

export async function runGet(ctx: CliContext, args: string[], o: GetOptions = {}): Promise<number> {
  const output = ctx.opts.output;
  checkOutput(output);
  const requests = parseTypeArgs(args);
  if (ctx.opts.watch || o.watchOnly) {
    if (o.sortBy) ctx.printErr("warning: --watch or --watch-only requested, --sort-by will be ignored\n");
    return watchGet(ctx, requests, o);
  }
  if (isObjectOutput(output)) return getObjects(ctx, requests, output, o.sortBy);

  const multi = requests.length > 1;
  const blocks: Block[] = [];
  let failed = false;
  for (const req of requests) {
    if (req.names.length === 0) {
      const byTime = !o.sortBy && req.r.group === "" && req.r.resource === "events";
      const table = await tableOf(ctx, req.r, nsFor(ctx, req.r, false), { fullObjects: Boolean(o.sortBy) || byTime });
      if (o.sortBy) table.rows = sortByField(table.rows, o.sortBy, (row) => row.object);
      else if (byTime) table.rows = sortRowsByEventTime(table.rows);
      if (table.rows.length > 0) blocks.push({ req, table });
      continue;
    }
    let merged: Table | undefined;
    for (const name of req.names) {
      try {
        const t = await ctx.client.table(req.r, nsFor(ctx, req.r, true), { name });
        if (!merged) merged = t;
        else merged.rows.push(...t.rows);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        failed = true;
        ctx.printErr(`${formatError(err)}\n`);
      }
    }
    if (merged && merged.rows.length > 0) blocks.push({ req, table: merged });
  }

  // Each resource type is aligned on its own (kubectl resets the remembered widths).
  blocks.forEach((b, i) => {
    const w = new TabWriter(GET_TABWRITER);
    const f = formatFor(ctx, b.req, multi, o);
    if (i > 0) ctx.print("\n");
    if (!o.noHeaders) w.write(tableHeader(b.table, f));
    w.write(tableRows(b.table, f));
    ctx.print(w.flush());
  });
  const anyNamed = requests.some((r) => r.names.length > 0);
  if (blocks.length === 0 && !anyNamed)
    ctx.printErr(
      noResourcesMessage(
        ctx,
        requests.map((r) => r.r),
      ),
    );
  return failed ? 1 : 0;
}

/** `get events`: rows oldest first by when each event last happened, as `kubeling events` orders them. */
function sortRowsByEventTime(rows: Table["rows"]): Table["rows"] {
  const byObject = new Map(rows.map((row) => [row.object as unknown as Event, row]));
  return sortEvents([...byObject.keys()]).map((e) => byObject.get(e) as Table["rows"][number]);
}

function formatFor(ctx: CliContext, req: TypeRequest, multi: boolean, o: GetOptions): TableFormat {
  return {
    wide: ctx.opts.output === "wide",
    withNamespace: Boolean(ctx.opts.allNamespaces) && req.r.namespaced && req.names.length === 0,
    ...(multi ? { kindPrefix: kindPrefix(req.r) } : {}),
    ...(o.showLabels ? { showLabels: true } : {}),
  };
}

function typed(r: ResourceInfo, obj: KubeObject): KubeObject {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
}

async function getObjects(
  ctx: CliContext,
  requests: TypeRequest[],
  output: string,
  sortBy: string | undefined,
): Promise<number> {
  let objects: Array<{ r: ResourceInfo; obj: KubeObject }> = [];
  let failed = false;
  let single = requests.length === 1 && requests[0]?.names.length === 1;
  for (const req of requests) {
    if (req.names.length === 0) {
      single = false;
      let cont: string | undefined;
      do {
        const list = await ctx.client.list(req.r, nsFor(ctx, req.r, false), {
          ...listOpts(ctx),
          limit: 500,
          ...(cont ? { continue: cont } : {}),
        });
        for (const item of list.items) objects.push({ r: req.r, obj: typed(req.r, item) });
        cont = list.metadata?.continue || undefined;
      } while (cont);
      continue;
    }
    for (const name of req.names) {
      try {
        objects.push({ r: req.r, obj: typed(req.r, await ctx.client.get(req.r, nsFor(ctx, req.r, true), name)) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        failed = true;
        ctx.printErr(`${formatError(err)}\n`);
      }
    }
  }
  if (sortBy) objects = sortByField(objects, sortBy, (x) => x.obj);
  if (output === "name") {
    for (const { r, obj } of objects) ctx.print(`${kindPrefix(r)}/${obj.metadata.name}\n`);
    if (objects.length === 0 && !requests.some((r) => r.names.length > 0)) {
      ctx.printErr(
        noResourcesMessage(
          ctx,
          requests.map((r) => r.r),
        ),
      );
    }
    return failed ? 1 : 0;
  }
  if (objects.length === 0 && failed) return 1;
  const printable = asPrintable(
    objects.map((x) => x.obj),
    !single,
  );
  if (output.startsWith("jsonpath=")) {
    ctx.print(jsonpath(output.slice("jsonpath=".length), printable));
    return failed ? 1 : 0;
  }
  if (output.startsWith("custom-columns=")) {
    ctx.print(
      customColumns(
        output.slice("custom-columns=".length),
        objects.map((x) => x.obj),
      ),
    );
    return failed ? 1 : 0;
  }
  ctx.print(output === "json" ? toJson(printable) : toYaml(printable));
  return failed ? 1 : 0;
}

/** kubectl get -w: the current table (unless --watch-only), then a row per event. */
async function watchGet(ctx: CliContext, requests: TypeRequest[], o: GetOptions): Promise<number> {
  const req = requests[0];
  if (!req || requests.length > 1 || req.names.length > 1) {
    throw new CliError(
      `error: you may only specify a single resource type or a single object to watch, but ${requests.reduce((n, r) => n + Math.max(1, r.names.length), 0)} were given`,
    );
  }
  const output = ctx.opts.output;
  const name = req.names[0];
  const ns = nsFor(ctx, req.r, name !== undefined);
  const lo = listOpts(ctx);
  if (name !== undefined) lo.fieldSelector = `metadata.name=${name}`;

  if (output === "yaml" || output === "json" || output === "name") {
    for await (const ev of ctx.client.watch(req.r, ns, lo)) {
      if (ev.type === "BOOKMARK") continue;
      const obj = typed(req.r, ev.object);
      if (output === "name") ctx.print(`${kindPrefix(req.r)}/${obj.metadata.name}\n`);
      else if (output === "json") ctx.print(toJson(asPrintable([obj], false)));
      else ctx.print(`${toYaml(asPrintable([obj], false))}---\n`);
    }
    return 0;
  }

  const f = formatFor(ctx, { r: req.r, names: [] }, false, o);
  const w = new TabWriter(GET_TABWRITER);
  let headerPrinted = false;
  let seenName = false;
  const initial = name !== undefined ? await ctx.client.table(req.r, ns, { name }) : await tableOf(ctx, req.r, ns);
  const rv = initial.metadata?.resourceVersion;
  if (!o.watchOnly) {
    if (initial.rows.length > 0) {
      if (!o.noHeaders) w.write(tableHeader(initial, f));
      w.write(tableRows(initial, f));
      headerPrinted = true;
      seenName = name !== undefined;
      ctx.print(w.flush());
    } else if (name === undefined) {
      ctx.printErr(noResourcesMessage(ctx, [req.r]));
    }
  }

  // A named watch restarts from "0" (kubectl's habit) and drops the duplicate initial ADDED.
  const from = name !== undefined ? { resourceVersion: "0" } : rv ? { resourceVersion: rv } : {};
  const events = ctx.client.watch(req.r, ns, { ...lo, ...from }, { accept: TABLE_ACCEPT, yieldErrors: true });
  for await (const ev of events) {
    if (ev.type === "BOOKMARK") continue;
    if (ev.type === "ERROR") {
      const st = ev.object as Partial<Status>;
      w.write(`STATUS\tREASON\tMESSAGE\n${st.status ?? "Failure"}\t${st.reason ?? ""}\t${st.message ?? ""}\n`);
      ctx.print(w.flush());
      return 0;
    }
    if (seenName && ev.type === "ADDED") {
      seenName = false;
      continue;
    }
    seenName = false;
    const t = asTable(ev.object, initial);
    if (!headerPrinted) {
      if (!o.noHeaders) w.write(tableHeader(t, f));
      headerPrinted = true;
    }
    w.write(tableRows(t, f));
    ctx.print(w.flush());
  }
  return 0;
}

/** A watch event's object as a one-row Table (a server ignoring the Table Accept sends plain objects). */
function asTable(obj: Record<string, unknown>, like: Table): Table {
  if (obj.kind === "Table") {
    const t = obj as unknown as Table;
    if (!t.columnDefinitions || t.columnDefinitions.length === 0)
      return { ...t, columnDefinitions: like.columnDefinitions };
    return t;
  }
  const meta = (obj.metadata ?? {}) as KubeObject["metadata"];
  const cells = like.columnDefinitions.map((c, i) => (i === 0 || c.format === "name" ? (meta.name ?? "") : ""));
  return { ...like, rows: [{ cells, object: { metadata: meta } }] };
}
