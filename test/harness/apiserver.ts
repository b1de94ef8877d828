// A real kubeling-apiserver process for integration and e2e tests, set up as production's: a
// cluster PKI of its own (pkg/pki/cluster.ts: serving certificate, --client-ca-file), the
// server's default authorization (Node,RBAC; a test of AlwaysAllow passes it in extraArgs), the
// admin's client-certificate kubeconfig (kubernetes-admin in system:masters, allowed everything)
// usable by kubectl and by our CLI, kubeconfigFor() for any other identity (a kubelet's
// system:node:<name>, a user RBAC decides on), ServiceAccount token signing with the PKI's sa.key
// (issuer SERVICE_ACCOUNT_ISSUER, as kubeadm's), and an ApiClient; also a random bearer token
// (admin in system:masters, for raw requests), and a unique etcd prefix on a shared (or given)
// etcd. stop() kills the process
// and removes its temp files; the shared etcd stops when the last server using it stops.
//
// Set KUBELING_TEST_LOGS=1 to see the server's logs (LOG level from KUBELING_TEST_LOG_LEVEL).

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import { ApiClient } from "#pkg/client/client.js";
import { loadKubeconfig } from "#pkg/client/kubeconfig.js";
import {
  ADMIN_USER,
  type ClusterPki,
  ensureClusterPki,
  MASTERS_GROUP,
  readCA,
  writeUserKubeconfig,
} from "#pkg/pki/cluster.js";
import { startEtcd, type TestEtcd } from "./etcd.js";
import { WaitAborted, waitFor } from "./wait.js";

export interface TestApiServer {
  url: string;
  /** A bearer token of the token file (user admin in system:masters), for raw requests. */
  token: string;
  /** The cluster CA: it signs the serving certificate and every client certificate. */
  caPem: string;
  /** The admin's kubeconfig (kubernetes-admin in system:masters, a client certificate). */
  kubeconfigPath: string;
  pki: ClusterPki;
  /** kubeconfigFor writes a kubeconfig holding a client certificate for the user, signed by the CA. */
  kubeconfigFor(user: { name: string; groups?: readonly string[] }): Promise<string>;
  client: ApiClient;
  /** The etcd endpoint and key prefix this server stores under. */
  etcd: string;
  prefix: string;
  /** The server process, and how it ended (for shutdown tests). */
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface StartApiServerOptions {
  /** etcd client URL; default: a shared etcd started on first use. */
  etcd?: string;
  /** etcd key prefix; default: a unique one per server. */
  prefix?: string;
  /**
   * The cluster PKI's directory (made if empty, kept by stop()): successive servers sharing one
   * look the same to clients. Default: a fresh one per server.
   */
  pkiDir?: string;
  /**
   * --encryption-provider-config: default the PKI's (Secrets encrypted with aescbc, as
   * production's); a path for another; false for none (everything stored as plain JSON).
   */
  encryptionConfig?: string | false;
  /**
   * --bind-address (default 127.0.0.1 only); every address is also in the serving certificate's
   * SANs. startCluster adds its pods network's gateway, where pods reach the server.
   */
  bindAddresses?: string[];
  /**
   * ServiceAccount admission, on in production. Off by default here, as in many of upstream's
   * integration tests: a pod then needs no ServiceAccount and gets no token volume, so tests that
   * run no controller-manager (which makes the "default" accounts and kube-root-ca.crt) can
   * create pods. On: pods run as upstream's, with the kube-api-access volume.
   */
  serviceAccounts?: boolean;
  /**
   * --service-cluster-ip-range (default the server's, 10.96.0.0/12); its first address, the
   * `kubernetes` Service's cluster IP that pods dial, is a SAN of the serving certificate.
   */
  serviceClusterIPRange?: string;
  extraArgs?: string[];
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** kubeadm's --service-account-issuer, which every harness API server has (and so its API audience). */
export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

let shared: { etcd: Promise<TestEtcd>; users: number } | undefined;

async function acquireSharedEtcd(): Promise<TestEtcd> {
  if (!shared) shared = { etcd: startEtcd(), users: 0 };
  shared.users++;
  try {
    return await shared.etcd;
  } catch (err) {
    shared = undefined;
    throw err;
  }
}

async function releaseSharedEtcd(): Promise<void> {
  if (!shared) return;
  shared.users--;
  if (shared.users > 0) return;
  const s = shared;
  shared = undefined;
  await (await s.etcd).stop();
}

/** startApiServer starts a kubeling-apiserver process and waits until /readyz answers ok. */
export async function startApiServer(opts: StartApiServerOptions = {}): Promise<TestApiServer> {
  const usesShared = opts.etcd === undefined;
  const etcd = opts.etcd ?? (await acquireSharedEtcd()).endpoint;
  const prefix = opts.prefix ?? `/kubeling-test-${randomBytes(6).toString("hex")}`;
  const dir = await mkdtemp(join(tmpdir(), "kubeling-apiserver-"));
  const token = randomBytes(18).toString("base64url");
  const tokenFile = join(dir, "tokens.csv");
  await writeFile(tokenFile, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  // Certificates only: the kubeconfigs are written once the server's port is known.
  const bindAddresses = opts.bindAddresses ?? ["127.0.0.1"];
  const pki = await ensureClusterPki({
    dir: opts.pkiDir ?? join(dir, "cluster"),
    nodes: [],
    apiserverSANs: bindAddresses,
    ...(opts.serviceClusterIPRange ? { serviceClusterIPRange: opts.serviceClusterIPRange } : {}),
  }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    if (usesShared) await releaseSharedEtcd();
    throw err;
  });
  const ca = readCA(pki);
  const caPem = ca.cert;
  // The server writes this one (a token) once it listens: it tells the harness the URL.
  const tokenKubeconfig = join(dir, "token.kubeconfig");
  const kubeconfigPath = join(dir, "kubeconfig");
  const showLogs = process.env.KUBELING_TEST_LOGS === "1";

  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    join(ROOT, "apiserver", "main.ts"),
    `--etcd-servers=${etcd}`,
    `--etcd-prefix=${prefix}`,
    `--bind-address=${bindAddresses.join(",")}`,
    "--secure-port=0",
    `--cert-dir=${join(dir, "pki")}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    // Kubelets as kubeadm's API server reaches them: its kubelet-client certificate (in
    // system:masters), their serving certificates verified against the cluster CA (the harness's
    // kubelets get theirs signed by it: kubelet.ts).
    `--kubelet-client-certificate=${pki.apiserverKubeletClientCert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    ...(opts.encryptionConfig === false
      ? []
      : [`--encryption-provider-config=${opts.encryptionConfig ?? pki.encryptionConfig}`]),
    // ServiceAccount tokens as kubeadm sets them up (a test's own --service-account-issuer replaces this one).
    ...((opts.extraArgs ?? []).some((a) => a.startsWith("--service-account-issuer"))
      ? []
      : [`--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`]),
    ...(opts.serviceClusterIPRange ? [`--service-cluster-ip-range=${opts.serviceClusterIPRange}`] : []),
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--token-auth-file=${tokenFile}`,
    `--write-kubeconfig=${tokenKubeconfig}`,
    `--log-level=${process.env.KUBELING_TEST_LOG_LEVEL ?? (showLogs ? "debug" : "warn")}`,
    ...(opts.serviceAccounts ? [] : ["--disable-admission-plugins=ServiceAccount"]),
    ...(opts.extraArgs ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: "json" },
    stdio: ["ignore", showLogs ? "inherit" : "pipe", showLogs ? "inherit" : "pipe"],
  });
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: string | undefined;
  const exitInfo = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = String(code ?? signal);
      resolve({ code, signal });
    });
  });
  const exitPromise = exitInfo.then(() => undefined);
  // The exit can come before the last of its output: the failure names what the server printed,
  // once its pipes have closed (the server starts no processes that could hold them open).
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const exitedError = async (): Promise<WaitAborted> => {
    await closed;
    return new WaitAborted(`kubeling-apiserver exited (${exited}): ${output.trim()}`);
  };

  let client: ApiClient | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await client?.close().catch(() => undefined);
    if (exited === undefined) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitPromise;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
    if (usesShared) await releaseSharedEtcd();
  };

  try {
    const { server } = await waitFor(
      async () => {
        if (exited !== undefined) throw await exitedError();
        if (!existsSync(tokenKubeconfig)) return undefined;
        return loadKubeconfig({ path: tokenKubeconfig });
      },
      { timeoutMs: 90_000, intervalMs: 50, message: "kubeling-apiserver to write its kubeconfig" },
    );
    let users = 0;
    const kubeconfigFor = async (user: { name: string; groups?: readonly string[] }): Promise<string> => {
      const path = join(dir, `user-${users++}.kubeconfig`);
      await writeUserKubeconfig({ ca, path, server, user: { name: user.name, groups: user.groups ?? [] } });
      return path;
    };
    await writeUserKubeconfig({
      ca,
      path: kubeconfigPath,
      server,
      user: { name: ADMIN_USER, groups: [MASTERS_GROUP] },
    });
    const config = loadKubeconfig({ path: kubeconfigPath });
    client = new ApiClient(config, { userAgent: "kubeling-test-harness" });
    const c = client;
    await waitFor(
      async () => {
        if (exited !== undefined) throw await exitedError();
        const res = await c.request("GET", "/readyz");
        const body = await text(res.body);
        return res.statusCode === 200 && body === "ok";
      },
      { timeoutMs: 60_000, intervalMs: 50, message: "kubeling-apiserver /readyz" },
    );
    return {
      url: config.server,
      token,
      caPem,
      kubeconfigPath,
      pki,
      kubeconfigFor,
      client,
      etcd,
      prefix,
      pid: child.pid as number,
      exited: exitInfo,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
