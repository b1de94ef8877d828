// kubectl describe's PrefixWriter: LEVEL_n indents by 2n spaces; cells are tab-separated
// and aligned by a Go-compatible tabwriter (minwidth 0, padding 2). flush() closes an
// alignment section, as kubectl does before the Events table.

import { labelsString, rfc1123z } from "../format.js";
import { DESCRIBE_TABWRITER, TabWriter } from "../tabwriter.js";

export class PrefixWriter {
  #tw = new TabWriter(DESCRIBE_TABWRITER);
  #out = "";
  readonly #raw: boolean;

  /** raw: tabs are kept, not aligned (kubectl's bare NewPrefixWriter, as rollout history --revision prints). */
  constructor(o: { raw?: boolean } = {}) {
    this.#raw = o.raw ?? false;
  }

  write(level: number, text: string): void {
    if (this.#raw) this.#out += "  ".repeat(level) + text;
    else this.#tw.write("  ".repeat(level) + text);
  }

  /** Line helper: write(level, `${key}:\t${value}\n`). */
  kv(level: number, key: string, value: string | number | boolean | undefined | null): void {
    this.write(level, `${key}:\t${value === undefined || value === null || value === "" ? "<none>" : String(value)}\n`);
  }

  flush(): void {
    if (!this.#raw) this.#out += this.#tw.flush();
  }

  toString(): string {
    this.flush();
    return this.#out;
  }
}

/** printLabelsMultiline: "Labels:  a=b" then "         c=d", or "<none>". */
export function labelsMultiline(
  w: PrefixWriter,
  level: number,
  title: string,
  labels: Record<string, string> | undefined,
): void {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) {
    w.write(level, `${title}:\t<none>\n`);
    return;
  }
  keys.forEach((k, i) => {
    const text = `${k}=${labels?.[k]}`;
    if (i === 0) w.write(level, `${title}:\t${text}\n`);
    // kubectl writes continuation lines without the level's indent (invisible once aligned).
    else w.write(0, `\t${text}\n`);
  });
}

/** printAnnotationsMultiline: "key: value" lines (long values are elided by kubectl; we keep them short). */
export function annotationsMultiline(
  w: PrefixWriter,
  level: number,
  title: string,
  annotations: Record<string, string> | undefined,
): void {
  const skip = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);
  const keys = Object.keys(annotations ?? {})
    .filter((k) => !skip.has(k))
    .sort();
  if (keys.length === 0) {
    w.write(level, `${title}:\t<none>\n`);
    return;
  }
  keys.forEach((k, i) => {
    let v = annotations?.[k] ?? "";
    if (v.length > 200) v = `${v.slice(0, 197)}...`;
    const text = `${k}: ${v.replace(/\n/g, "\\n")}`;
    if (i === 0) w.write(level, `${title}:\t${text}\n`);
    // kubectl writes continuation lines without the level's indent (invisible once aligned).
    else w.write(0, `\t${text}\n`);
  });
}

export { labelsString, rfc1123z };
