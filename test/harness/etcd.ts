// A real etcd (/usr/bin/etcd) for integration tests: free client and peer ports, a temporary
// data dir, ready once /health answers. stop() kills it and removes the dir. Plain HTTP on
// 127.0.0.1 by default; with tls, as production runs it: https, --client-cert-auth against a CA
// (pkg/pki/cluster.ts: etcd's own CA), peers over TLS too.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import type { ClusterPki } from "#pkg/pki/cluster.js";
import { freePort } from "./ports.js";
import { WaitAborted, waitFor } from "./wait.js";

export interface TestEtcd {
  endpoint: string;
  dataDir: string;
  stop(): Promise<void>;
  /** Kills etcd (SIGKILL) and starts it again on the same ports and data (tests of reconnects). */
  restart(): Promise<void>;
}

const ETCD_BIN = process.env.ETCD_BIN ?? "/usr/bin/etcd";

/** etcd's TLS files (server and peer) and a client certificate for the health check. */
export interface EtcdTLSFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  peerCertFile: string;
  peerKeyFile: string;
  /** A client certificate etcd's CA signed (the API server's), for /health. */
  clientCertFile: string;
  clientKeyFile: string;
}

/** The etcd files of a cluster PKI (pkg/pki/cluster.ts), the API server's etcd client certificate for health. */
export function etcdTLSFiles(p: ClusterPki): EtcdTLSFiles {
  return {
    caFile: p.etcdCACert,
    certFile: p.etcdServerCert,
    keyFile: p.etcdServerKey,
    peerCertFile: p.etcdPeerCert,
    peerKeyFile: p.etcdPeerKey,
    clientCertFile: p.apiserverEtcdClientCert,
    clientKeyFile: p.apiserverEtcdClientKey,
  };
}

export interface StartEtcdOptions {
  tls?: EtcdTLSFiles;
}

function healthAgent(tls: EtcdTLSFiles | undefined): Agent | undefined {
  if (!tls) return undefined;
  return new Agent({
    connect: {
      ca: readFileSync(tls.caFile, "utf8"),
      cert: readFileSync(tls.clientCertFile, "utf8"),
      key: readFileSync(tls.clientKeyFile, "utf8"),
    },
  });
}

async function healthy(endpoint: string, agent: Agent | undefined): Promise<boolean> {
  try {
    const res = await request(`${endpoint}/health`, {
      signal: AbortSignal.timeout(1000),
      ...(agent ? { dispatcher: agent } : {}),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return false;
    }
    const body = (await res.body.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  }
}

interface EtcdProcess {
  stop(): Promise<void>;
}

/** Spawns etcd on fixed ports and data dir; resolves once healthy. */
async function spawnEtcd(
  dataDir: string,
  clientPort: number,
  peerPort: number,
  fresh: boolean,
  tls: EtcdTLSFiles | undefined,
): Promise<EtcdProcess> {
  const scheme = tls ? "https" : "http";
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `${scheme}://127.0.0.1:${peerPort}`;
  const tlsFlags = tls
    ? [
        `--cert-file=${tls.certFile}`,
        `--key-file=${tls.keyFile}`,
        `--trusted-ca-file=${tls.caFile}`,
        "--client-cert-auth=true",
        `--peer-cert-file=${tls.peerCertFile}`,
        `--peer-key-file=${tls.peerKeyFile}`,
        `--peer-trusted-ca-file=${tls.caFile}`,
        "--peer-client-cert-auth=true",
      ]
    : [];
  const name = `test-${clientPort}`;
  const child: ChildProcess = spawn(
    ETCD_BIN,
    [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${name}=${peer}`,
      `--initial-cluster-state=${fresh ? "new" : "existing"}`,
      "--quota-backend-bytes=4294967296",
      ...tlsFlags,
      // Quiet unless asked: etcd logs every start-up step at info.
      `--log-level=${process.env.ETCD_LOG_LEVEL ?? "error"}`,
      "--logger=zap",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  child.once("error", (err) => {
    stderr += `\nspawn error: ${err.message}`;
    exited ??= { code: -1, signal: null };
  });
  const agent = healthAgent(tls);
  const stop = async (): Promise<void> => {
    if (!exited && child.exitCode === null) {
      child.kill("SIGKILL");
      await exitPromise;
    }
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new WaitAborted(`etcd exited (${exited.code ?? exited.signal}): ${stderr.trim()}`);
        return healthy(endpoint, agent);
      },
      { timeoutMs: 15_000, intervalMs: 50, message: `etcd at ${endpoint} to be healthy` },
    );
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await agent?.close();
  }
  return { stop };
}

async function startOnce(o: StartEtcdOptions): Promise<TestEtcd> {
  const dataDir = await mkdtemp(join(tmpdir(), "kubeling-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `${o.tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
  let proc: EtcdProcess;
  try {
    proc = await spawnEtcd(dataDir, clientPort, peerPort, true, o.tls);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint,
    dataDir,
    stop: async () => {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      await proc.stop();
      proc = await spawnEtcd(dataDir, clientPort, peerPort, false, o.tls);
    },
  };
}

/**
 * Starts etcd; fails loudly if the binary is missing. Retries once on a port race (another
 * process grabbed the port between freePort() and etcd's bind).
 */
export async function startEtcd(o: StartEtcdOptions = {}): Promise<TestEtcd> {
  try {
    return await startOnce(o);
  } catch (err) {
    if (err instanceof Error && /address already in use/.test(err.message)) return startOnce(o);
    throw err;
  }
}
