// kubeling create configmap | secret generic | secret tls | secret docker-registry: the objects
// kubectl's generators build (staging/src/k8s.io/kubectl/pkg/cmd/create), with their flags,
// checks and messages: --from-literal, --from-file (a file, [key=]path, or every regular file of
// a directory), --from-env-file (KEY=VALUE lines; a bare KEY takes the caller's environment),
// --append-hash (kubectl's ConfigMapHash/SecretHash suffix), --type, --save-config,
// --field-manager, and --dry-run/-o as the other generators (dryrun.ts).

import { isUtf8 } from "node:buffer";
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { StatusError } from "#pkg/api/errors.js";
import { CONFIGMAPS, type ResourceInfo, SECRETS } from "#pkg/api/resources.js";
import type { ConfigMap, Secret } from "#pkg/api/types/index.js";
import { chDirPrefixErrors, configMapKeyErrors, envVarNameErrors } from "#pkg/api/validation.js";
import { withLastApplied } from "../applypatch.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { createAndReport, parseDryRun } from "./dryrun.js";

/** Where a generator reads files and the environment (tests give their own). */
export interface SourceReader {
  readFile(path: string): Buffer;
  /** "dir", "file" or undefined when the path does not exist. */
  kind(path: string): "dir" | "file" | undefined;
  /** The names of a directory's regular files, sorted (Go's os.ReadDir order). */
  regularFiles(dir: string): string[];
  env(name: string): string | undefined;
}

export const fsReader: SourceReader = {
  readFile: (path) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new CliError(`error: open ${path}: ${osMessage(err)}`);
    }
  },
  kind: (path) => {
    try {
      return statSync(path).isDirectory() ? "dir" : "file";
    } catch {
      return undefined;
    }
  },
  regularFiles: (dir) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => d.name)
      .sort(),
  env: (name) => process.env[name],
};

/** Go's syscall error text for the common errnos. */
function osMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return (err as Error).message;
}

/** kubectl's ParseLiteralSource: key=value, split at the first "=", the value kept as given. */
export function parseLiteralSource(source: string): [string, string] {
  const eq = source.indexOf("=");
  if (eq <= 0) throw new CliError(`error: invalid literal source ${source}, expected key=value`);
  return [source.slice(0, eq), source.slice(eq + 1)];
}

/** kubectl's ParseFileSource: path (the key is its base name) or key=path. */
export function parseFileSource(source: string): [string, string] {
  const n = source.split("=").length - 1;
  if (n === 0) return [basename(source), source];
  if (n === 1 && source.startsWith("=")) throw new CliError(`error: key name for file path ${source.slice(1)} missing`);
  if (n === 1 && source.endsWith("="))
    throw new CliError(`error: file path for key name ${source.slice(0, -1)} missing`);
  if (n > 1) throw new CliError("error: key names or file paths cannot contain '='");
  const [key = "", path = ""] = source.split("=");
  return [key, path];
}

/** Go's json.Marshal of a map: keys sorted (by bytes, as Go compares strings). */
const sorted = (m: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** pflag's StringSlice: every occurrence, each split at commas. */
const slice = (values: readonly string[] | undefined): string[] =>
  (values ?? []).flatMap((v) => v.split(",")).filter((v) => v !== "");

/**
 * kubectl's AddFromEnvFile: one KEY=VALUE per line (a UTF-8 BOM and leading blanks dropped,
 * blank lines and # comments skipped, the value kept verbatim), a bare KEY taking the value of
 * the caller's environment variable.
 */
export function envFileEntries(content: Buffer, env: (name: string) => string | undefined): [string, string][] {
  const out: [string, string][] = [];
  const text = content.toString("utf8");
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith("\uFEFF")) line = line.slice(1);
    line = line.replace(/^\s+/u, "");
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const key = eq < 0 ? line : line.slice(0, eq);
    const errs = [...envVarNameErrors(key), ...chDirPrefixErrors(key)];
    if (errs.length > 0) throw new CliError(`error: ${JSON.stringify(key)} is not a valid key name: ${errs.join(";")}`);
    out.push([key, eq < 0 ? (env(key) ?? "") : line.slice(eq + 1)]);
  });
  return out;
}

export interface ConfigSources {
  fromLiteral?: string[];
  fromFile?: string[];
  fromEnvFile?: string[];
}

/** Where a source's keys go, with the duplicate and bad-key messages of the generator. */
interface Sink {
  literal(key: string, value: string): void;
  file(key: string, data: Buffer): void;
}

/** The files of the --from-file sources: a file under its key, or each regular file of a directory. */
function addFileSources(sources: string[], sink: Sink, r: SourceReader): void {
  for (const source of sources) {
    const [key, path] = parseFileSource(source);
    const kind = r.kind(path);
    if (!kind) throw new CliError(`error: error reading ${path}: no such file or directory`);
    if (kind === "dir") {
      if (source.includes("=")) throw new CliError("error: cannot give a key name for a directory path");
      for (const name of r.regularFiles(path)) sink.file(name, r.readFile(join(path, name)));
    } else sink.file(key, r.readFile(path));
  }
}

function addEnvFileSources(sources: string[], sink: Sink, r: SourceReader, what: "config" | "secret"): void {
  for (const path of sources) {
    const kind = r.kind(path);
    if (!kind) throw new CliError(`error: error reading ${path}: no such file or directory`);
    if (kind === "dir") throw new CliError(`error: env ${what} file cannot be a directory`);
    for (const [k, v] of envFileEntries(r.readFile(path), r.env)) sink.literal(k, v);
  }
}

function checkEnvFileAlone(o: ConfigSources): void {
  if (slice(o.fromEnvFile).length > 0 && (slice(o.fromFile).length > 0 || (o.fromLiteral ?? []).length > 0))
    throw new CliError("error: from-env-file cannot be combined with from-file or from-literal");
}

/** The ConfigMap kubectl create configmap builds: files, then literals, then env files. */
export function configMapFor(name: string, o: ConfigSources, r: SourceReader = fsReader): ConfigMap {
  checkEnvFileAlone(o);
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const check = (key: string) => {
    const errs = configMapKeyErrors(key);
    if (errs.length > 0)
      throw new CliError(`error: ${JSON.stringify(key)} is not a valid key name for a ConfigMap: ${errs.join(",")}`);
    for (const [field, m] of [
      ["Data", data],
      ["BinaryData", binaryData],
    ] as const)
      if (key in m)
        throw new CliError(
          `error: cannot add key ${JSON.stringify(key)}, another key by that name already exists in ${field} for ConfigMap ${JSON.stringify(name)}`,
        );
  };
  const sink: Sink = {
    literal(key, value) {
      check(key);
      data[key] = value;
    },
    // Text files go to data, anything else (not UTF-8) to binaryData.
    file(key, bytes) {
      check(key);
      if (isUtf8(bytes)) data[key] = bytes.toString("utf8");
      else binaryData[key] = bytes.toString("base64");
    },
  };
  addFileSources(slice(o.fromFile), sink, r);
  for (const l of o.fromLiteral ?? []) sink.literal(...parseLiteralSource(l));
  addEnvFileSources(slice(o.fromEnvFile), sink, r, "config");
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name },
    // Sorted, as Go's encoding/json writes a map.
    ...(Object.keys(data).length ? { data: sorted(data) } : {}),
    ...(Object.keys(binaryData).length ? { binaryData: sorted(binaryData) } : {}),
  };
}

/** A Secret's data being built, with kubectl's create secret messages. */
function secretSink(data: Record<string, string>): Sink {
  const add = (key: string, bytes: Buffer) => {
    const errs = configMapKeyErrors(key);
    if (errs.length > 0)
      throw new CliError(`error: ${JSON.stringify(key)} is not valid key name for a Secret ${errs.join(";")}`);
    if (key in data) throw new CliError(`error: cannot add key ${key}, another key by that name already exists`);
    data[key] = bytes.toString("base64");
  };
  return { literal: (k, v) => add(k, Buffer.from(v, "utf8")), file: add };
}

const secretObject = (name: string, type: string | undefined, data: Record<string, string>): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name },
  ...(Object.keys(data).length ? { data: sorted(data) } : {}),
  ...(type ? { type } : {}),
});

/** The Secret kubectl create secret generic builds: literals, then files, then env files. */
export function genericSecretFor(
  name: string,
  o: ConfigSources & { type?: string },
  r: SourceReader = fsReader,
): Secret {
  checkEnvFileAlone(o);
  const data: Record<string, string> = {};
  const sink = secretSink(data);
  for (const l of o.fromLiteral ?? []) sink.literal(...parseLiteralSource(l));
  addFileSources(slice(o.fromFile), sink, r);
  addEnvFileSources(slice(o.fromEnvFile), sink, r, "secret");
  return secretObject(name, o.type, data);
}

/** The Secret kubectl create secret tls builds, once the pair is known to match (Go's tls.X509KeyPair). */
export function tlsSecretFor(name: string, o: { cert?: string; key?: string }, r: SourceReader = fsReader): Secret {
  if (!o.cert || !o.key) throw new CliError("error: key and cert must be specified");
  const read = (path: string) => {
    try {
      return r.readFile(path);
    } catch (err) {
      throw new CliError(`error: Cannot read file ${path}, ${(err as Error).message.replace(/^error: /, "")}`);
    }
  };
  const cert = read(o.cert);
  const key = read(o.key);
  if (!/-----BEGIN CERTIFICATE-----/.test(cert.toString("latin1")))
    throw new CliError("error: tls: failed to find any PEM data in certificate input");
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString("latin1")))
    throw new CliError("error: tls: failed to find any PEM data in key input");
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new CliError(`error: tls: ${(err as Error).message}`);
  }
  if (!matches) throw new CliError("error: tls: private key does not match public key");
  return secretObject(name, "kubernetes.io/tls", {
    "tls.crt": cert.toString("base64"),
    "tls.key": key.toString("base64"),
  });
}

export interface DockerRegistryOptions {
  dockerServer: string;
  dockerUsername?: string;
  dockerPassword?: string;
  dockerEmail?: string;
  fromFile?: string[];
}

/** The Secret kubectl create secret docker-registry builds: a .dockerconfigjson for one registry, or files. */
export function dockerRegistrySecretFor(name: string, o: DockerRegistryOptions, r: SourceReader = fsReader): Secret {
  const files = slice(o.fromFile);
  if (files.length === 0 && (!o.dockerUsername || !o.dockerPassword || !o.dockerServer))
    throw new CliError(
      "error: either --from-file or the combination of --docker-username, --docker-password and --docker-server is required",
    );
  const data: Record<string, string> = {};
  if (files.length > 0) addFileSources(files, secretSink(data), r);
  else {
    const username = o.dockerUsername ?? "";
    const password = o.dockerPassword ?? "";
    // DockerConfigEntry's fields in their order, the empty ones left out (omitempty).
    const entry = {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(o.dockerEmail ? { email: o.dockerEmail } : {}),
      auth: Buffer.from(`${username}:${password}`).toString("base64"),
    };
    data[".dockerconfigjson"] = Buffer.from(goJson({ auths: { [o.dockerServer]: entry } })).toString("base64");
  }
  return secretObject(name, "kubernetes.io/dockerconfigjson", data);
}

/** encoding/json's output: HTML-sensitive characters escaped as Go does by default. */
function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** kubectl's encodeHash: the first 10 hex digits of the sha256, with some letters swapped (no vowels, no 0/1/3). */
function encodeHash(content: string): string {
  const swap: Record<string, string> = { "0": "g", "1": "h", "3": "k", a: "m", e: "t" };
  return [...createHash("sha256").update(content).digest("hex").slice(0, 10)].map((c) => swap[c] ?? c).join("");
}

/** kubectl's ConfigMapHash (--append-hash). */
export function configMapHash(cm: ConfigMap): string {
  const binary = Object.keys(cm.binaryData ?? {}).length > 0;
  return encodeHash(
    goJson({
      ...(binary ? { binaryData: sorted(cm.binaryData) } : {}),
      data: sorted(cm.data),
      kind: "ConfigMap",
      name: cm.metadata.name,
    }),
  );
}

/** kubectl's SecretHash (--append-hash). */
export function secretHash(s: Secret): string {
  return encodeHash(goJson({ data: sorted(s.data), kind: "Secret", name: s.metadata.name, type: s.type ?? "" }));
}

export interface CreateConfigOptions {
  appendHash?: boolean;
  dryRun?: string | boolean;
  /** --save-config: the object as sent, in kubectl.kubernetes.io/last-applied-configuration. */
  saveConfig?: boolean;
  fieldManager?: string;
}

async function send(
  ctx: CliContext,
  r: ResourceInfo,
  obj: ConfigMap | Secret,
  what: "configmap" | "secret",
  o: CreateConfigOptions,
): Promise<number> {
  if (o.appendHash) {
    const hash = what === "configmap" ? configMapHash(obj as ConfigMap) : secretHash(obj as Secret);
    obj.metadata.name = `${obj.metadata.name}-${hash}`;
  }
  const body = (o.saveConfig ? withLastApplied(obj as unknown as Record<string, unknown>) : obj) as ConfigMap | Secret;
  try {
    await createAndReport(ctx, r, ctx.namespace, body, {
      fieldManager: o.fieldManager ?? "kubectl-create",
      dryRun: parseDryRun(o.dryRun),
    });
  } catch (err) {
    // kubectl's generators wrap the server's answer ("failed to create configmap: ...").
    if (err instanceof StatusError) throw new CliError(`error: failed to create ${what}: ${err.message}`);
    throw err;
  }
  return 0;
}

export const runCreateConfigMap = (ctx: CliContext, name: string, o: ConfigSources & CreateConfigOptions) =>
  send(ctx, CONFIGMAPS, configMapFor(name, o), "configmap", o);

export const runCreateSecretGeneric = (
  ctx: CliContext,
  name: string,
  o: ConfigSources & CreateConfigOptions & { type?: string },
) => send(ctx, SECRETS, genericSecretFor(name, o), "secret", o);

export const runCreateSecretTLS = (
  ctx: CliContext,
  name: string,
  o: { cert?: string; key?: string } & CreateConfigOptions,
) => send(ctx, SECRETS, tlsSecretFor(name, o), "secret", o);

export const runCreateSecretDockerRegistry = (
  ctx: CliContext,
  name: string,
  o: DockerRegistryOptions & CreateConfigOptions,
) => send(ctx, SECRETS, dockerRegistrySecretFor(name, o), "secret", o);
