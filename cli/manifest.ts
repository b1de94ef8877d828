// Loading manifests for apply/create/delete -f: files, directories (their .yaml, .yml and
// .json files, sorted), or "-" for stdin; multi-document YAML, JSON, and `kind: List`.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "#pkg/api/meta.js";
import { CliError } from "./errors.js";

export interface ManifestObject {
  /** The file it came from ("STDIN" for "-"), for error messages. */
  source: string;
  object: KubeObject;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse one file's text into objects; `kind: *List` documents are expanded. */
export function parseManifests(text: string, source: string): ManifestObject[] {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const out: ManifestObject[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const first = doc.errors[0];
    if (first) throw new CliError(`error: error parsing ${source}: ${first.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value)) {
      throw new CliError(`error: error parsing ${source}: expected an object, got ${JSON.stringify(value)}`);
    }
    expand(value, source, out);
  }
  return out;
}

function expand(value: Record<string, unknown>, source: string, out: ManifestObject[]): void {
  const kind = value.kind;
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(value.items)) {
    for (const item of value.items) {
      if (!isObject(item)) throw new CliError(`error: error parsing ${source}: list item is not an object`);
      expand(item, source, out);
    }
    return;
  }
  const missing: string[] = [];
  if (typeof value.apiVersion !== "string" || value.apiVersion === "") missing.push("apiVersion not set");
  if (typeof value.kind !== "string" || value.kind === "") missing.push("kind not set");
  if (missing.length > 0) {
    throw new CliError(
      `error: error validating "${source}": error validating data: [${missing.join(", ")}]; if you choose to ignore these errors, turn validation off with --validate=false`,
    );
  }
  if (!isObject(value.metadata)) value.metadata = {};
  out.push({ source, object: value as KubeObject });
}

function filesOf(path: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new CliError(`error: the path "${path}" does not exist`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => MANIFEST_EXT.test(f))
    .sort()
    .map((f) => join(path, f))
    .filter((p) => statSync(p).isFile());
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** All objects from every -f argument, in order. */
export async function loadManifests(
  paths: string[],
  o: { stdin?: NodeJS.ReadableStream; verb?: string } = {},
): Promise<ManifestObject[]> {
  const stdin = o.stdin ?? process.stdin;
  if (paths.length === 0) throw new CliError("error: must specify one of -f and -k");
  const out: ManifestObject[] = [];
  for (const p of paths) {
    if (p === "-") {
      out.push(...parseManifests(await readStdin(stdin), "STDIN"));
      continue;
    }
    for (const file of filesOf(p)) out.push(...parseManifests(readFileSync(file, "utf8"), file));
  }
  if (out.length === 0) throw new CliError(`error: no objects passed to ${o.verb ?? "apply"}`);
  return out;
}
