// A real kubeling-kubelet process for integration and e2e tests, plus Docker cleanup by cluster
// label. Each test uses its own --cluster-name, so its containers, network and kubelet root dirs
// (in the temp dir) are its own, and cleanupCluster removes exactly them. KUBELING_TEST_LOGS=1 shows the kubelet's logs.

import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { isNotFound } from "#pkg/api/errors.js";
import { PODS } from "#pkg/api/resources.js";
import type { ContainerStatus, Pod } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { type ClusterPki, readCA, writeKubeletServingCert } from "#pkg/pki/cluster.js";
import { type HttpsAnswer, type HttpsCredentials, httpsGet } from "./https.js";
import { freePort } from "./ports.js";
import { startComponent } from "./process.js";
import { waitFor } from "./wait.js";

const docker = new Docker();

export interface TestKubelet {
  nodeName: string;
  /** The kubelet's HTTPS port (every request authenticated and authorized). */
  port: number;
  /** Its plain-HTTP healthz port on 127.0.0.1 (/healthz without credentials). */
  healthzPort: number;
  /** Where the kubelet listens (--address). */
  address: string;
  /**
   * GET https://<address>:<port><path>, its serving certificate verified against the cluster CA,
   * with these credentials (default: none).
   */
  get(path: string, credentials?: HttpsCredentials): Promise<HttpsAnswer>;
  /** Recent output, for assertion messages. */
  output(): string;
  /** SIGTERM and wait (the kubelet leaves its containers running, as upstream does). */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
}

export interface StartKubeletOptions {
  kubeconfigPath: string;
  /**
   * The cluster PKI (a TestApiServer's): its CA signs the kubelet's serving certificate (which
   * the harness API server verifies, --kubelet-certificate-authority) and is the kubelet's
   * --client-ca-file (the API server's kubelet-client certificate authenticates).
   */
  pki: Pick<ClusterPki, "caCert" | "caKey">;
  nodeName: string;
  clusterName: string;
  pauseImage?: string;
  /**
   * --address and --node-ip: where the kubelet listens and the API server reaches it. Default
   * 127.0.0.1, where no pod reaches it; a pods network's gateway puts it where upstream's is, on
   * the node's address, reachable from pods.
   */
  address?: string;
  extraArgs?: string[];
}

/** rootDirOf: the kubelet's --root-dir in tests, stable across restarts of the same node. */
export function rootDirOf(cluster: string, node: string): string {
  return join(tmpdir(), `kubeling-kubelet-${cluster}-${node}`);
}

export async function startKubelet(o: StartKubeletOptions): Promise<TestKubelet> {
  const port = await freePort();
  const healthzPort = await freePort();
  const address = o.address ?? "127.0.0.1";
  // The serving pair beside the root dir (cleanupCluster removes both), for the name and address.
  const pkiDir = `${rootDirOf(o.clusterName, o.nodeName)}-pki`;
  const serving = { cert: join(pkiDir, "kubelet.crt"), key: join(pkiDir, "kubelet.key") };
  const ca = readCA(o.pki);
  await writeKubeletServingCert({
    ca,
    node: o.nodeName,
    sans: [address],
    certPath: serving.cert,
    keyPath: serving.key,
  });
  const proc = startComponent("kubeling-kubelet", "kubelet/main.ts", [
    `--kubeconfig=${o.kubeconfigPath}`,
    `--hostname-override=${o.nodeName}`,
    `--cluster-name=${o.clusterName}`,
    `--port=${port}`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    `--client-ca-file=${o.pki.caCert}`,
    // Tests start many kubelets on one host: a free healthz port each, on loopback.
    `--healthz-port=${healthzPort}`,
    "--healthz-bind-address=127.0.0.1",
    `--root-dir=${rootDirOf(o.clusterName, o.nodeName)}`,
    `--address=${address}`,
    `--node-ip=${address}`,
    `--pod-infra-container-image=${o.pauseImage ?? "kubeling.local/pause:latest"}`,
    ...(o.extraArgs ?? []),
  ]);
  const k: TestKubelet = {
    nodeName: o.nodeName,
    port,
    healthzPort,
    address,
    get: (path, credentials = {}) =>
      httpsGet(`https://${address.includes(":") ? `[${address}]` : address}:${port}${path}`, {
        ...credentials,
        ca: ca.cert,
      }),
    output: proc.output,
    stop: () => proc.end("SIGTERM"),
    kill: () => proc.end("SIGKILL"),
  };
  try {
    await proc.waitHealthy(healthzPort, "/healthz", 30_000);
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

/** execIn runs cmd in a container (docker exec) and returns its exit code and output (stdout and stderr, demultiplexed). */
export async function execIn(containerId: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const ex = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    stream.on("data", (b: Buffer) => chunks.push(b));
    stream.on("end", () => resolve());
  });
  // Strip Docker's 8-byte stream headers.
  const buf = Buffer.concat(chunks);
  const parts: Buffer[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(off + 4);
    parts.push(buf.subarray(off + 8, off + 8 + len));
    off += 8 + len;
  }
  const info = await ex.inspect();
  return { code: info.ExitCode ?? -1, out: Buffer.concat(parts).toString() };
}

/** waitPod polls the pod until ok(pod) holds and returns it. */
export function waitPod(
  client: ApiClient,
  namespace: string,
  name: string,
  ok: (p: Pod) => boolean,
  o: { timeoutMs?: number; message?: string | undefined } = {},
): Promise<Pod> {
  return waitFor(
    async () => {
      const p = await client.get<Pod>(PODS, namespace, name);
      return ok(p) ? p : undefined;
    },
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 100, message: o.message ?? `pod ${name}` },
  );
}

/** containerStatus: the status of the named container, if the pod reports one. */
export function containerStatus(p: Pod, name: string): ContainerStatus | undefined {
  return p.status?.containerStatuses?.find((c) => c.name === name);
}

/** waitPodGone waits until the API server answers 404 for the pod (the kubelet's final delete). */
export async function waitPodGone(
  client: ApiClient,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    async () => {
      try {
        await client.get(PODS, namespace, name);
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    },
    { timeoutMs, message: `pod ${namespace}/${name} deleted` },
  );
}

export { docker };
