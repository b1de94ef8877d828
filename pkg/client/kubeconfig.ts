// kubeconfig: the file format kubectl reads (clusters, users, contexts, current-context).
// loadKubeconfig resolves one context into the flat ClientConfig the ApiClient needs;
// writeKubeconfig writes a single-context file that both kubectl and kubeling accept.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, resolve } from "node:path";
import { parse, stringify } from "yaml";

export interface ClientConfig {
  /** Base URL of the API server, e.g. "https://127.0.0.1:6443". */
  server: string;
  token?: string;
  /** PEM bundle that signs the server's certificate. */
  caPem?: string;
  insecureSkipTLSVerify?: boolean;
  /** Default namespace of the selected context. */
  namespace?: string;
  /** Client certificate authentication (kubeconfig client-certificate[-data]/client-key[-data]). */
  certPem?: string;
  keyPem?: string;
}

interface NamedCluster {
  name?: string;
  cluster?: {
    server?: string;
    "certificate-authority-data"?: string;
    "certificate-authority"?: string;
    "insecure-skip-tls-verify"?: boolean;
  };
}

interface NamedUser {
  name?: string;
  user?: {
    token?: string;
    tokenFile?: string;
    "client-certificate-data"?: string;
    "client-certificate"?: string;
    "client-key-data"?: string;
    "client-key"?: string;
  };
}

interface NamedContext {
  name?: string;
  context?: { cluster?: string; user?: string; namespace?: string };
}

interface KubeconfigFile {
  apiVersion?: string;
  kind?: string;
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  "current-context"?: string;
}

/**
 * Which file to read: an explicit path, else the first existing file of $KUBECONFIG
 * (a path list, ":"-separated on Linux), else ~/.kube/config.
 */
export function kubeconfigPath(explicit?: string): string {
  if (explicit) return explicit;
  const env = process.env.KUBECONFIG;
  if (env) {
    const candidates = env.split(delimiter).filter((p) => p.length > 0);
    const found = candidates.find((p) => existsSync(p));
    if (found) return found;
    if (candidates[0]) return candidates[0];
  }
  return resolve(homedir(), ".kube", "config");
}

function readRelative(baseDir: string, file: string, what: string): string {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`kubeconfig: cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function decodeBase64(data: string): string {
  return Buffer.from(data, "base64").toString("utf8");
}

/** Parses a kubeconfig document (already read) into a ClientConfig. `baseDir` resolves relative file references. */
export function parseKubeconfig(
  text: string,
  o: { context?: string; baseDir?: string; source?: string } = {},
): ClientConfig {
  const source = o.source ?? "kubeconfig";
  const baseDir = o.baseDir ?? process.cwd();
  let doc: KubeconfigFile;
  try {
    doc = (parse(text) ?? {}) as KubeconfigFile;
  } catch (err) {
    throw new Error(`${source}: invalid YAML: ${(err as Error).message}`, { cause: err });
  }
  const contextName = o.context ?? doc["current-context"];
  if (!contextName) throw new Error(`${source}: no current-context set and no context given`);
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`${source}: context "${contextName}" not found`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`${source}: cluster "${context.cluster ?? ""}" of context "${contextName}" not found`);
  if (!cluster.server) throw new Error(`${source}: cluster "${context.cluster ?? ""}" has no server`);

  const config: ClientConfig = { server: cluster.server.replace(/\/+$/, "") };
  if (cluster["certificate-authority-data"]) config.caPem = decodeBase64(cluster["certificate-authority-data"]);
  else if (cluster["certificate-authority"])
    config.caPem = readRelative(baseDir, cluster["certificate-authority"], "certificate-authority");
  if (cluster["insecure-skip-tls-verify"]) config.insecureSkipTLSVerify = true;
  if (context.namespace) config.namespace = context.namespace;

  if (context.user) {
    const user = doc.users?.find((u) => u.name === context.user)?.user;
    if (!user) throw new Error(`${source}: user "${context.user}" of context "${contextName}" not found`);
    if (user.token) config.token = user.token;
    else if (user.tokenFile) config.token = readRelative(baseDir, user.tokenFile, "tokenFile").trim();
    if (user["client-certificate-data"]) config.certPem = decodeBase64(user["client-certificate-data"]);
    else if (user["client-certificate"])
      config.certPem = readRelative(baseDir, user["client-certificate"], "client-certificate");
    if (user["client-key-data"]) config.keyPem = decodeBase64(user["client-key-data"]);
    else if (user["client-key"]) config.keyPem = readRelative(baseDir, user["client-key"], "client-key");
  }
  return config;
}

/** Loads a kubeconfig the way kubectl finds it (explicit path, $KUBECONFIG, ~/.kube/config). */
export function loadKubeconfig(opts: { path?: string; context?: string } = {}): ClientConfig {
  const path = kubeconfigPath(opts.path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseKubeconfig(text, {
    baseDir: dirname(resolve(path)),
    source: path,
    ...(opts.context ? { context: opts.context } : {}),
  });
}

/** What renderKubeconfig writes: one cluster, one user (a token or a client certificate), one context. */
export interface KubeconfigSpec {
  server: string;
  token?: string;
  /** PEM client certificate and key, embedded as client-certificate-data / client-key-data. */
  clientCert?: { cert: string; key: string };
  caPem?: string;
  /** The name of the cluster, user and context unless given apart (default "kubeling"). */
  name?: string;
  /** kubeadm's names: cluster "kubernetes", user "kubernetes-admin", context "kubernetes-admin@kubernetes". */
  clusterName?: string;
  userName?: string;
  contextName?: string;
  namespace?: string;
}

const base64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** Renders a single-cluster, single-user, single-context kubeconfig document. */
export function renderKubeconfig(o: KubeconfigSpec): string {
  const name = o.name ?? "kubeling";
  const clusterName = o.clusterName ?? name;
  const userName = o.userName ?? name;
  const contextName = o.contextName ?? name;
  const cluster: NonNullable<NamedCluster["cluster"]> = { server: o.server };
  if (o.caPem) cluster["certificate-authority-data"] = base64(o.caPem);
  const context: NonNullable<NamedContext["context"]> = { cluster: clusterName, user: userName };
  if (o.namespace) context.namespace = o.namespace;
  const user: NonNullable<NamedUser["user"]> = {};
  if (o.clientCert) {
    user["client-certificate-data"] = base64(o.clientCert.cert);
    user["client-key-data"] = base64(o.clientCert.key);
  }
  if (o.token) user.token = o.token;
  const doc: KubeconfigFile = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name: contextName, context }],
    "current-context": contextName,
  };
  return stringify(doc);
}

/**
 * Writes a kubeconfig (CA and client certificate embedded as base64) with mode 0600, creating
 * the directory if needed.
 */
export function writeKubeconfig(path: string, o: KubeconfigSpec): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, renderKubeconfig(o), { mode: 0o600 });
  // writeFileSync's mode only applies on creation: tighten an existing file too.
  chmodSync(path, 0o600);
}
