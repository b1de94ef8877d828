// The subset of kubectl's JSONPath templates people use (-o jsonpath=...): literal text,
// {.a.b}, {.items[*].x}, {.a[0]}, {['key.with.dots']}, {.list[?(@.type=="Ready")].status},
// {range EXPR}...{end} and {"\n"}. Several results of one expression print space-separated.

import { CliError } from "./errors.js";

type Segment =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number }
  | { kind: "all" }
  | { kind: "filter"; path: Segment[]; op: "==" | "!=" | "exists"; value?: string };

type Node =
  | { kind: "text"; text: string }
  | { kind: "expr"; path: Segment[] }
  | { kind: "range"; path: Segment[]; body: Node[] };

function parsePath(src: string): Segment[] {
  const segs: Segment[] = [];
  let i = 0;
  const s = src.trim();
  if (s === "" || s === "." || s === "@") return segs;
  while (i < s.length) {
    const c = s[i];
    if (c === "@" && i === 0) {
      i++;
      continue;
    }
    if (c === ".") {
      i++;
      const m = /^[^.[\]]+/.exec(s.slice(i));
      if (!m) continue;
      segs.push({ kind: "field", name: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === "[") {
      const end = matchBracket(s, i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") segs.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) segs.push({ kind: "index", index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) segs.push({ kind: "field", name: inner.slice(1, -1) });
      else if (inner.startsWith("?(") && inner.endsWith(")")) {
        const cond = inner.slice(2, -1).trim();
        const m = /^(@[^=!]*?)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(\S+))$/.exec(cond);
        if (m) {
          segs.push({
            kind: "filter",
            path: parsePath(m[1] ?? "@"),
            op: m[2] as "==" | "!=",
            value: m[3] ?? m[4] ?? m[5] ?? "",
          });
        } else {
          segs.push({ kind: "filter", path: parsePath(cond), op: "exists" });
        }
      } else throw new CliError(`error: error parsing jsonpath ${src}: unrecognized subscript [${inner}]`);
      continue;
    }
    // A bare leading name ("items[0]") is a field too.
    const m = /^[^.[\]]+/.exec(s.slice(i));
    if (!m) throw new CliError(`error: error parsing jsonpath ${src}: unexpected ${c}`);
    segs.push({ kind: "field", name: m[0] });
    i += m[0].length;
  }
  return segs;
}

function matchBracket(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "[") depth++;
    else if (c === "]" && --depth === 0) return i;
  }
  throw new CliError(`error: error parsing jsonpath ${s}: unclosed [`);
}

function tokenize(template: string): Array<{ text: string } | { expr: string }> {
  const out: Array<{ text: string } | { expr: string }> = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    if (open < 0) {
      out.push({ text: template.slice(i) });
      break;
    }
    if (open > i) out.push({ text: template.slice(i, open) });
    let j = open + 1;
    let quote: string | undefined;
    for (; j < template.length; j++) {
      const c = template[j];
      if (quote) {
        if (c === "\\") j++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "}") break;
    }
    if (j >= template.length) throw new CliError(`error: error parsing jsonpath ${template}: unclosed action`);
    out.push({ expr: template.slice(open + 1, j).trim() });
    i = j + 1;
  }
  return out;
}

export function parseTemplate(template: string): Node[] {
  const tokens = tokenize(template);
  const stack: Node[][] = [[]];
  const ranges: Array<Extract<Node, { kind: "range" }>> = [];
  for (const t of tokens) {
    const top = stack[stack.length - 1] ?? [];
    if ("text" in t) {
      top.push({ kind: "text", text: t.text });
    } else if (/^".*"$|^'.*'$/s.test(t.expr)) {
      const lit = t.expr.slice(1, -1).replace(/\\n/g, "\n").replace(/\\t/g, "\t").replace(/\\"/g, '"');
      top.push({ kind: "text", text: lit });
    } else if (t.expr.startsWith("range ")) {
      const node: Extract<Node, { kind: "range" }> = { kind: "range", path: parsePath(t.expr.slice(6)), body: [] };
      top.push(node);
      ranges.push(node);
      stack.push(node.body);
    } else if (t.expr === "end") {
      if (ranges.length === 0)
        throw new CliError(`error: error parsing jsonpath ${template}: not in range, nothing to end`);
      ranges.pop();
      stack.pop();
    } else {
      top.push({ kind: "expr", path: parsePath(t.expr) });
    }
  }
  if (ranges.length > 0) throw new CliError(`error: error parsing jsonpath ${template}: unclosed range`);
  return stack[0] ?? [];
}

function evaluate(values: unknown[], path: Segment[]): unknown[] {
  let cur = values;
  for (const seg of path) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (seg.kind === "field") {
        if (v && typeof v === "object" && !Array.isArray(v) && seg.name in v)
          next.push((v as Record<string, unknown>)[seg.name]);
      } else if (seg.kind === "index") {
        if (Array.isArray(v)) {
          const item = v[seg.index < 0 ? v.length + seg.index : seg.index];
          if (item !== undefined) next.push(item);
        }
      } else if (seg.kind === "all") {
        if (Array.isArray(v)) next.push(...v);
        else if (v && typeof v === "object") next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          const got = evaluate([item], seg.path);
          if (seg.op === "exists" ? got.length > 0 : got.some((g) => String(g) === seg.value) === (seg.op === "==")) {
            next.push(item);
          }
        }
      }
    }
    cur = next;
  }
  return cur;
}

function show(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function render(nodes: Node[], data: unknown, sep: string): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "expr") out += evaluate([data], n.path).map(show).join(sep);
    else for (const item of evaluate([data], n.path)) out += render(n.body, item, sep);
  }
  return out;
}

/** Applies a kubectl JSONPath template to a value (custom-columns join results with ","). */
export function jsonpath(template: string, data: unknown, sep = " "): string {
  return render(parseTemplate(template), data, sep);
}
