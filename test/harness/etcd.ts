// A real etcd (/usr/bin/etcd) for integration tests: free client and peer ports, a temporary
// data dir, ready once /health answers. stop() kills it and removes the dir.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { waitFor } from "./wait.js";

export interface TestEtcd {
  endpoint: string;
  dataDir: string;
  stop(): Promise<void>;
  /** Kills etcd (SIGKILL) and starts it again on the same ports and data (tests of reconnects). */
  restart(): Promise<void>;
}

const ETCD_BIN = process.env.ETCD_BIN ?? "/usr/bin/etcd";

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    const body = (await res.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  }
}

interface EtcdProcess {
  stop(): Promise<void>;
}

/** Spawns etcd on fixed ports and data dir; resolves once healthy. */
async function spawnEtcd(dataDir: string, clientPort: number, peerPort: number, fresh: boolean): Promise<EtcdProcess> {
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
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
  const stop = async (): Promise<void> => {
    if (!exited && child.exitCode === null) {
      child.kill("SIGKILL");
      await exitPromise;
    }
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`etcd exited (${exited.code ?? exited.signal}): ${stderr.trim()}`);
        return healthy(endpoint);
      },
      { timeoutMs: 15_000, intervalMs: 50, message: `etcd at ${endpoint} to be healthy` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

async function startOnce(): Promise<TestEtcd> {
  const dataDir = await mkdtemp(join(tmpdir(), "kubeling-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  let proc: EtcdProcess;
  try {
    proc = await spawnEtcd(dataDir, clientPort, peerPort, true);
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
      proc = await spawnEtcd(dataDir, clientPort, peerPort, false);
    },
  };
}

/**
 * Starts etcd; fails loudly if the binary is missing. Retries once on a port race (another
 * process grabbed the port between freePort() and etcd's bind).
 */
export async function startEtcd(): Promise<TestEtcd> {
  try {
    return await startOnce();
  } catch (err) {
    if (err instanceof Error && /address already in use/.test(err.message)) return startOnce();
    throw err;
  }
}
