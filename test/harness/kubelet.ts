// A real kubeling-kubelet process for integration and e2e tests, plus Docker cleanup by cluster
// label. Each test uses its own --cluster-name, so its containers, network and kubelet root dirs
// (in the temp dir) are its own, and cleanupCluster removes exactly them. KUBELING_TEST_LOGS=1 shows the kubelet's logs.

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { freePort } from "./ports.js";
import { waitFor } from "./wait.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const docker = new Docker();

export interface TestKubelet {
  nodeName: string;
  port: number;
  /** Recent output, for assertion messages. */
  output(): string;
  /** SIGTERM and wait (the kubelet leaves its containers running, as upstream does). */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
}

export interface StartKubeletOptions {
  kubeconfigPath: string;
  nodeName: string;
  clusterName: string;
  pauseImage?: string;
  extraArgs?: string[];
}

/** rootDirOf: the kubelet's --root-dir in tests, stable across restarts of the same node. */
export function rootDirOf(cluster: string, node: string): string {
  return join(tmpdir(), `kubeling-kubelet-${cluster}-${node}`);
}

export async function startKubelet(o: StartKubeletOptions): Promise<TestKubelet> {
  const port = await freePort();
  const showLogs = process.env.KUBELING_TEST_LOGS === "1";
  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    join(ROOT, "kubelet", "main.ts"),
    `--kubeconfig=${o.kubeconfigPath}`,
    `--hostname-override=${o.nodeName}`,
    `--cluster-name=${o.clusterName}`,
    `--port=${port}`,
    `--root-dir=${rootDirOf(o.clusterName, o.nodeName)}`,
    "--address=127.0.0.1",
    "--node-ip=127.0.0.1",
    `--pod-infra-container-image=${o.pauseImage ?? "kubeling.local/pause:latest"}`,
    `--log-level=${process.env.KUBELING_TEST_LOG_LEVEL ?? (showLogs ? "debug" : "info")}`,
    ...(o.extraArgs ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    if (showLogs) process.stderr.write(d);
    out = (out + d.toString()).slice(-20000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = String(code ?? signal);
      resolve();
    });
  });
  const end = async (sig: NodeJS.Signals) => {
    if (exited !== undefined) return;
    child.kill(sig);
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exitPromise;
    clearTimeout(killer);
  };
  const k: TestKubelet = {
    nodeName: o.nodeName,
    port,
    output: () => out,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
  try {
    await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`kubeling-kubelet exited (${exited}): ${out.trim()}`);
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        return res.ok;
      },
      { timeoutMs: 30_000, message: `kubelet ${o.nodeName} /healthz` },
    );
  } catch (err) {
    await k.kill();
    throw err;
  }
  return k;
}

/** cleanupCluster removes every container and network labelled with the test's cluster name. */
export async function cleanupCluster(cluster: string): Promise<void> {
  const label = `kubeling.io/cluster=${cluster}`;
  const cs = await docker.listContainers({ all: true, filters: { label: [label] } });
  await killAndWait(cs.filter((c) => c.State === "running"));
  await Promise.all(
    cs.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  const nets = await docker.listNetworks({ filters: { label: [label] } });
  await Promise.all(
    nets.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  const prefix = `kubeling-kubelet-${cluster}-`;
  for (const d of readdirSync(tmpdir()))
    if (d.startsWith(prefix)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
}

/**
 * killAndWait: SIGKILL the containers and wait until each has exited, the containers that joined a
 * pod sandbox's network namespace before the sandboxes (as the kubelet does), so no namespace owner
 * dies under a running member. Force-removing many running containers of one bridge network at
 * once leaves stale endpoints in dockerd 20.10 (seen here: 30 concurrent `rm -f` → "has active
 * endpoints" for good); kill, wait, then remove did not in the same trial.
 */
export async function killAndWait(cs: Array<{ Id: string; Labels?: Record<string, string> }>): Promise<void> {
  const kill = (batch: typeof cs) =>
    Promise.all(
      batch.map(async (c) => {
        const ct = docker.getContainer(c.Id);
        await ct.kill().catch(() => undefined);
        await ct.wait().catch(() => undefined);
      }),
    );
  const isSandbox = (c: (typeof cs)[number]) => c.Labels?.["kubeling.io/container-type"] === "sandbox";
  await kill(cs.filter((c) => !isSandbox(c)));
  await kill(cs.filter(isSandbox));
}

/** clusterContainers lists a test cluster's containers (optionally for one node). */
export async function clusterContainers(cluster: string, node?: string): Promise<Docker.ContainerInfo[]> {
  const labels = [`kubeling.io/cluster=${cluster}`, ...(node ? [`kubeling.io/node=${node}`] : [])];
  return docker.listContainers({ all: true, filters: { label: labels } });
}

export { docker };
