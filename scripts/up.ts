// `npm run up`: the contributor's loop. Starts a whole kubeling cluster as child processes on this
// machine, from the TypeScript sources (no build step):
//   etcd (the local /usr/bin/etcd, or the etcd image through Docker when there is no binary),
//   the API server, and whichever of scheduler / controller-manager / DNS / kubelets / kube-proxy
//   exist in the tree (kube-proxy in iptables mode as root, else userspace).
// Ports are free ones (reused from the last run when still free), etcd data stays in
// .kubeling/etcd and the kubelets' in .kubeling/kubelet/<node> (--fresh wipes both), logs go to
// .kubeling/logs/<component>.log, and the kubeconfig for kubectl and the CLI is written to
// .kubeling/kubeconfig (--state-dir moves all of it elsewhere).
// Security as kubeadm sets it up: the cluster PKI (pkg/pki/cluster.ts) is made on the first run
// and kept after, in .kubeling/pki with a kubeconfig per identity beside it (admin.conf,
// scheduler.conf, controller-manager.conf, kubelet-<node>.conf); every component runs under its
// own client certificate, etcd serves only TLS with client certificates (the API server's), and
// the kubeconfig for kubectl is the admin's (kubernetes-admin in system:masters).
// Sealed as upstream's: pods live on the cluster's Docker network (made here, before the API
// server), and reach only the API server and the cluster DNS, which listen on that network's
// gateway (beside 127.0.0.1 for the API server; DNS on port 53 when run as root, the kubelets'
// --cluster-dns); etcd, the scheduler, the controller-manager and the kubelets listen on 127.0.0.1.
// The kubelets serve HTTPS only, to the API server's kubelet-client certificate and to tokens
// allowed nodes/proxy; the scheduler's and controller-manager's /metrics need `get /metrics`.
// Ctrl-C (or SIGTERM) stops everything it started: the kubelets, then the pods' containers and
// the cluster's Docker network (by the label kubeling.io/cluster=<--cluster-name>, nothing else),
// then the other components, etcd last. The cluster name is "kubeling-up", not compose's
// "kubeling", so that stopping one never removes the other's pods.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { Agent, request } from "undici";
import { type ClusterPki, clusterPkiPaths, ensureClusterPki } from "#pkg/pki/cluster.js";
import { pollUntil } from "#pkg/runtime/wait.js";
// The test harness's Docker cleanup (kill apps, then sandboxes, wait, remove; retry the network):
// the launcher tears its cluster down exactly as the tests tear theirs down.
import { removeClusterObjects } from "../test/harness/cluster.js";
import { docker } from "../test/harness/kubelet.js";
import { ensurePodNetwork, type PodNetwork } from "../test/harness/network.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TSX = ["--conditions=source", "--import", "tsx"];
/** The cluster label the kubelets put on their containers and network. */
const LABEL_CLUSTER = "kubeling.io/cluster";

// Where the run's state lives (--state-dir, default .kubeling/); set by main() before anything starts.
let STATE = join(ROOT, ".kubeling");
let LOGS = join(STATE, "logs");
let KUBECONFIG = join(STATE, "kubeconfig");
let PORTS_FILE = join(STATE, "up-ports.json");

interface Options {
  nodes: number;
  fresh: boolean;
  stateDir: string;
  clusterName: string;
  etcdBin: string;
  etcdImage: string;
  pauseImage: string;
  busyboxImage: string;
  logLevel: string;
}

interface Running {
  name: string;
  child: ChildProcess;
  /** Set once the process has exited. */
  exited?: { code: number | null; signal: NodeJS.Signals | null };
  exitedP: Promise<void>;
  /** For etcd in Docker: the container to remove on stop. */
  container?: string;
}

// Output must never kill the launcher half-way through stopping: a closed terminal or pipe
// (EPIPE) is ignored.
process.stdout.on("error", () => undefined);
const say = (msg: string): void => {
  if (process.stdout.writable) process.stdout.write(`[up] ${msg}\n`);
};

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** ports returns the named ports of the last run where still free, and new free ones otherwise. */
async function ports(names: readonly string[]): Promise<Record<string, number>> {
  let last: Record<string, number> = {};
  try {
    last = JSON.parse(readFileSync(PORTS_FILE, "utf8")) as Record<string, number>;
  } catch {
    // first run
  }
  const out: Record<string, number> = {};
  const taken = new Set<number>();
  for (const n of names) {
    const prev = last[n];
    if (prev && !taken.has(prev) && (await portFree(prev))) out[n] = prev;
    else {
      let p = await freePort();
      while (taken.has(p)) p = await freePort();
      out[n] = p;
    }
    taken.add(out[n] as number);
  }
  writeFileSync(PORTS_FILE, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

function start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const logPath = join(LOGS, `${name}.log`);
  const log = createWriteStream(logPath, { flags: "a" });
  log.write(`\n--- ${new Date().toISOString()} ${cmd} ${args.join(" ")}\n`);
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Own process group: Ctrl-C in the terminal reaches only us, and we stop children in order.
    detached: true,
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const r: Running = { name, child, exitedP: Promise.resolve() };
  r.exitedP = new Promise<void>((res) => {
    child.once("exit", (code, signal) => {
      r.exited = { code, signal };
      log.end();
      res();
    });
    child.once("error", (err) => {
      log.write(`spawn error: ${err.message}\n`);
      r.exited ??= { code: -1, signal: null };
      log.end();
      res();
    });
  });
  say(`started ${name} (pid ${child.pid ?? "?"}), log: ${logPath}`);
  return r;
}

function tail(name: string, lines = 15): string {
  try {
    return readFileSync(join(LOGS, `${name}.log`), "utf8")
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitUntil(what: string, r: Running, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const ok = await pollUntil(
    async () => {
      if (r.exited)
        throw new Error(`${r.name} exited (${r.exited.code ?? r.exited.signal}) before ${what}:\n${tail(r.name)}`);
      return check();
    },
    100,
    { timeoutMs, immediate: true },
  );
  if (!ok) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${tail(r.name)}`);
}

/** httpsOk: a 200 from url, verifying the server against ca and presenting cert/key if given. */
async function httpsOk(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<boolean> {
  const agent = new Agent({ connect: tls });
  try {
    const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(1000) });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  } finally {
    await agent.close();
  }
}

function dockerAvailable(): boolean {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * startEtcd: TLS only, with client certificates of etcd's own CA (kubeadm's etcd flags): the API
 * server's certificate gets in, nothing else on the machine does.
 */
function startEtcd(o: Options, p: Record<string, number>, pki: ClusterPki): Running {
  const client = `https://127.0.0.1:${p.etcd}`;
  const peer = `https://127.0.0.1:${p.etcdPeer}`;
  const tls = (dir: string, files: ClusterPki): string[] => [
    `--cert-file=${join(dir, basename(files.etcdServerCert))}`,
    `--key-file=${join(dir, basename(files.etcdServerKey))}`,
    `--trusted-ca-file=${join(dir, basename(files.etcdCACert))}`,
    "--client-cert-auth=true",
    `--peer-cert-file=${join(dir, basename(files.etcdPeerCert))}`,
    `--peer-key-file=${join(dir, basename(files.etcdPeerKey))}`,
    `--peer-trusted-ca-file=${join(dir, basename(files.etcdCACert))}`,
    "--peer-client-cert-auth=true",
  ];
  const flags = (dataDir: string, listenClient: string, listenPeer: string, pkiDir: string): string[] => [
    ...tls(pkiDir, pki),
    "--name=kubeling",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${listenClient}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${listenPeer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=kubeling=${peer}`,
    "--quota-backend-bytes=4294967296",
    "--log-level=warn",
    "--logger=zap",
  ];
  if (existsSync(o.etcdBin)) {
    return start("etcd", o.etcdBin, flags(join(STATE, "etcd"), client, peer, dirname(pki.etcdServerCert)));
  }
  if (!dockerAvailable()) {
    throw new Error(`no etcd: ${o.etcdBin} is missing (apt-get install etcd-server) and Docker does not answer`);
  }
  // No local binary: the etcd image, its ports published on loopback only.
  const container = `kubeling-up-etcd-${p.etcd}`;
  say(`${o.etcdBin} missing: running etcd from ${o.etcdImage}`);
  const r = start("etcd", "docker", [
    "run",
    "--rm",
    `--name=${container}`,
    "--label=kubeling.io/local-up=true",
    `-p=127.0.0.1:${p.etcd}:2379`,
    `-p=127.0.0.1:${p.etcdPeer}:2380`,
    `-v=${join(STATE, "etcd")}:/etcd-data`,
    `-v=${dirname(pki.etcdServerCert)}:/etc/etcd/pki:ro`,
    o.etcdImage,
    "/usr/local/bin/etcd",
    ...flags("/etcd-data", "https://0.0.0.0:2379", "https://0.0.0.0:2380", "/etc/etcd/pki"),
  ]);
  r.container = container;
  return r;
}

/**
 * refuseComposeCluster: stopping removes everything labelled with the cluster name, so the name
 * must not be a compose cluster's (its network carries compose's project label).
 */
async function refuseComposeCluster(clusterName: string): Promise<void> {
  const nets = await docker.listNetworks({ filters: { label: [`${LABEL_CLUSTER}=${clusterName}`] } });
  const compose = nets.find((n) => n.Labels?.["com.docker.compose.project"]);
  if (compose) {
    throw new Error(
      `cluster name "${clusterName}" belongs to a compose cluster (network ${compose.Name}); ` +
        "pick another --cluster-name, or stop that cluster first",
    );
  }
}

/** Thrown by start-up steps once a stop began. */
class StopRequested extends Error {
  constructor() {
    super("stop requested during start-up");
  }
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function component(name: string): string | undefined {
  const main = join(ROOT, name, "main.ts");
  return existsSync(main) ? main : undefined;
}

async function main(): Promise<void> {
  const cmd = new Command("up")
    .description(
      "Run a kubeling cluster as local processes (Ctrl-C stops it, pods included). State lives in .kubeling/.",
    )
    .option(
      "--nodes <n>",
      "kubelets to start (node-1..node-N)",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("--nodes wants an integer >= 0");
        return n;
      },
      2,
    )
    .option("--fresh", "wipe etcd data, certificates and the kubelets' directories first", false)
    .option(
      "--state-dir <dir>",
      "etcd data, certificates, kubelet directories, logs and the kubeconfig",
      join(ROOT, ".kubeling"),
    )
    .option(
      "--cluster-name <name>",
      "kubelets' --cluster-name (Docker labels and network; compose's cluster is \"kubeling\")",
      "kubeling-up",
    )
    .option("--etcd-bin <path>", "etcd binary", process.env.ETCD_BIN ?? "/usr/bin/etcd")
    .option(
      "--etcd-image <image>",
      "etcd image when there is no binary",
      process.env.ETCD_IMAGE ?? "kubeling.local/etcd:3.4",
    )
    .option(
      "--pause-image <image>",
      "kubelets' --pod-infra-container-image",
      process.env.PAUSE_IMAGE ?? "kubeling.local/pause:latest",
    )
    .option(
      "--busybox-image <image>",
      "the local-path provisioner's helper pods (controller-manager --local-path-helper-image)",
      process.env.BUSYBOX_IMAGE ?? "kubeling.local/busybox:latest",
    )
    .option("--log-level <level>", "components' log level", "info")
    .parse(process.argv);
  const o = cmd.opts<Options>();
  STATE = resolve(o.stateDir);
  LOGS = join(STATE, "logs");
  KUBECONFIG = join(STATE, "kubeconfig");
  PORTS_FILE = join(STATE, "up-ports.json");

  const kubeletNames = Array.from({ length: o.nodes }, (_, i) => `node-${i + 1}`);
  if (o.fresh) {
    for (const d of ["etcd", "pki", "kubelet"]) rmSync(join(STATE, d), { recursive: true, force: true });
    const old = clusterPkiPaths(STATE, kubeletNames).kubeconfigs;
    for (const f of [old.admin, old.scheduler, old.controllerManager, old.kubeProxy, old.kubeDns, KUBECONFIG])
      rmSync(f, { force: true });
    for (const f of existsSync(STATE) ? readdirSync(STATE) : []) {
      if (/^kubelet-.*\.conf$/.test(f)) rmSync(join(STATE, f), { force: true });
    }
  }
  mkdirSync(LOGS, { recursive: true });
  const p = await ports([
    "etcd",
    "etcdPeer",
    "apiserver",
    "scheduler",
    "controllerManager",
    "dns",
    "proxyHealthz",
    "proxyMetrics",
    ...kubeletNames.map((n) => `kubelet-${n}`),
    ...kubeletNames.map((n) => `kubelet-healthz-${n}`),
  ]);

  const running: Running[] = [];
  /** Set once the pods network was made (kubelets follow): the pods' containers and the network are ours to remove. */
  let networkMade = false;
  /** The one stop: every way to stop (signals, parent gone, start-up failure, a core component exiting) awaits it. */
  let stopping: Promise<void> | undefined;
  /** launch starts a component, unless a stop began meanwhile (stopAll would not see it). */
  const launch = (name: string, cmd: string, args: string[]): Running => {
    if (stopping) throw new StopRequested();
    const r = start(name, cmd, args);
    running.push(r);
    return r;
  };
  const stopOne = async (r: Running): Promise<void> => {
    if (r.exited) return;
    if (r.child.pid) {
      try {
        process.kill(-r.child.pid, "SIGTERM");
      } catch {
        r.child.kill("SIGTERM");
      }
    }
    const timer = setTimeout(() => {
      if (!r.exited && r.child.pid) {
        say(`${r.name} ignored SIGTERM for 10 s: SIGKILL`);
        try {
          process.kill(-r.child.pid, "SIGKILL");
        } catch {
          r.child.kill("SIGKILL");
        }
      }
    }, 10_000);
    await r.exitedP;
    clearTimeout(timer);
    if (r.container) {
      try {
        execFileSync("docker", ["rm", "-f", r.container], { stdio: "ignore" });
      } catch {
        // --rm already removed it
      }
    }
    say(`stopped ${r.name}`);
  };
  const stopAll = async (why: string): Promise<void> => {
    say(`stopping (${why})`);
    const isKubelet = (r: Running) => r.name.startsWith("kubelet-");
    // Kubelets first (none may restart a container while they are removed), then their pods.
    await Promise.all(running.filter(isKubelet).map(stopOne));
    if (networkMade) {
      try {
        await removeClusterObjects(o.clusterName);
        say(`removed the pods' containers and the network of cluster ${o.clusterName}`);
      } catch (err) {
        say(`could not remove cluster ${o.clusterName}'s containers: ${err instanceof Error ? err.message : err}`);
      }
    }
    for (const r of [...running].reverse()) if (!isKubelet(r)) await stopOne(r);
    // kube-proxy leaves its rules when it stops (as upstream's, for restarts): the launcher's
    // cluster is gone, so are its chains, jumps and the service range's route.
    const proxyMain = component("proxy");
    if (proxyMain && running.some((r) => r.name === "proxy") && isRoot()) {
      try {
        execFileSync(process.execPath, [...TSX, proxyMain, "--cleanup", `--cluster-name=${o.clusterName}`], {
          stdio: "ignore",
        });
        say(`removed kube-proxy's chains of cluster ${o.clusterName}`);
      } catch {
        say("kubeling-proxy --cleanup failed");
      }
    }
  };
  // Last resort if this process dies by an uncaught error: children run in their own process
  // groups and would outlive it.
  process.on("exit", () => {
    for (const r of running) {
      if (!r.exited && r.child.pid) {
        try {
          process.kill(-r.child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      if (r.container) {
        try {
          execFileSync("docker", ["rm", "-f", r.container], { stdio: "ignore" });
        } catch {
          // already removed
        }
      }
    }
  });
  let exitCode = 0;
  // The parent check below: npm (`npm run up`) answers a SIGTERM by exiting without passing it on
  // (seen with npm 11), which would leave this process and everything it started running.
  const parent = process.ppid;
  const parentCheck = setInterval(() => {
    if (process.ppid !== parent) void stop("the launcher's parent process exited");
  }, 500);
  parentCheck.unref();
  /**
   * stop stops everything once and then exits; a later call (a second Ctrl-C, the parent check)
   * gets the same promise: exiting before the kubelets stopped and their pods' containers were
   * removed would leave those behind (the exit handler above only kills processes).
   */
  const stop = (why: string): Promise<void> => {
    if (stopping) {
      say(`${why}: shutdown already in progress (the pods' containers are being removed)`);
      return stopping;
    }
    clearInterval(parentCheck);
    stopping = stopAll(why).then(() => process.exit(exitCode));
    return stopping;
  };
  // SIGHUP: the terminal went away.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void stop(sig));

  try {
    const kubeletMain = component("kubelet");
    // The pods' Docker network before the API server, which listens on its gateway (the host's
    // address on it) beside 127.0.0.1: pods reach the API server, and nothing else, since etcd,
    // the scheduler, the controller-manager and the kubelets listen on 127.0.0.1 only.
    let podNetwork: PodNetwork | undefined;
    if (kubeletMain && o.nodes > 0) {
      if (!dockerAvailable()) throw new Error("kubelets need the Docker engine, and `docker info` fails");
      await refuseComposeCluster(o.clusterName);
      if (stopping) throw new StopRequested();
      networkMade = true;
      podNetwork = await ensurePodNetwork(o.clusterName);
      say(`pods network ${podNetwork.name}: ${podNetwork.subnet}, the API server on its gateway ${podNetwork.gateway}`);
    }

    // kubeadm's certs and kubeconfig phases; a second run keeps what still fits (a new port
    // rewrites the kubeconfigs, --nodes=3 adds node-3's, a new pods network the serving certificate).
    const apiURL = `https://127.0.0.1:${p.apiserver}`;
    const pki = await ensureClusterPki({
      dir: STATE,
      server: apiURL,
      nodes: kubeletNames,
      ...(podNetwork ? { apiserverSANs: [podNetwork.gateway] } : {}),
    });
    say(`cluster PKI: ${dirname(pki.caCert)} (CA, serving and etcd certificates), kubeconfigs in ${STATE}`);
    const read = (f: string) => readFileSync(f, "utf8");
    const etcdClient = {
      ca: read(pki.etcdCACert),
      cert: read(pki.apiserverEtcdClientCert),
      key: read(pki.apiserverEtcdClientKey),
    };

    const etcd = startEtcd(o, p, pki);
    running.push(etcd);
    await waitUntil("etcd /health", etcd, () => httpsOk(`https://127.0.0.1:${p.etcd}/health`, etcdClient), 30_000);

    const apiMain = component("apiserver");
    if (!apiMain) throw new Error("apiserver/main.ts is missing");
    rmSync(KUBECONFIG, { force: true });
    const api = launch("apiserver", process.execPath, [
      ...TSX,
      apiMain,
      `--etcd-servers=https://127.0.0.1:${p.etcd}`,
      `--etcd-cafile=${pki.etcdCACert}`,
      `--etcd-certfile=${pki.apiserverEtcdClientCert}`,
      `--etcd-keyfile=${pki.apiserverEtcdClientKey}`,
      `--bind-address=${["127.0.0.1", ...(podNetwork ? [podNetwork.gateway] : [])].join(",")}`,
      // The Endpoints default/kubernetes, which the kubelets put in KUBERNETES_SERVICE_HOST.
      ...(podNetwork ? [`--advertise-address=${podNetwork.gateway}`] : []),
      `--secure-port=${p.apiserver}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--encryption-provider-config=${pki.encryptionConfig}`,
      // ServiceAccount tokens, as kubeadm: signed with sa.key, verified with sa.pub.
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      // Logs, exec and port-forward reach the kubelets over HTTPS as kubeadm's API server does:
      // its kubelet-client certificate, their serving certificates checked against the cluster CA.
      `--kubelet-client-certificate=${pki.apiserverKubeletClientCert}`,
      `--kubelet-client-key=${pki.apiserverKubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      `--log-level=${o.logLevel}`,
    ]);
    // /readyz needs no credentials and answers ok once etcd does; then the admin's kubeconfig
    // becomes the user's (written only now: whoever waits for it finds a serving cluster).
    await waitUntil("the API server /readyz", api, () => httpsOk(`${apiURL}/readyz`, { ca: read(pki.caCert) }), 60_000);
    writeFileSync(KUBECONFIG, read(pki.kubeconfigs.admin), { mode: 0o600 });

    const kc = (path: string | undefined) => `--kubeconfig=${path}`;
    const schedulerMain = component("scheduler");
    if (schedulerMain) {
      launch("scheduler", process.execPath, [
        ...TSX,
        schedulerMain,
        kc(pki.kubeconfigs.scheduler),
        // Its secure port (/healthz, and /metrics for users allowed `get /metrics`) on a free
        // loopback port, not upstream's 10259; client certificates of the cluster CA authenticate.
        "--bind-address=127.0.0.1",
        `--secure-port=${p.scheduler}`,
        `--client-ca-file=${pki.caCert}`,
        `--log-level=${o.logLevel}`,
      ]);
    } else say("scheduler/main.ts not in the tree yet: not started");
    const cmMain = component("controller-manager");
    if (cmMain) {
      launch("controller-manager", process.execPath, [
        ...TSX,
        cmMain,
        kc(pki.kubeconfigs.controllerManager),
        // As the scheduler's: a free loopback port, not upstream's 10257.
        "--bind-address=127.0.0.1",
        `--secure-port=${p.controllerManager}`,
        `--client-ca-file=${pki.caCert}`,
        // The local-path provisioner's helper pods make and remove volume directories under each
        // kubelet's --root-dir (.kubeling/kubelet/<node>/local-path).
        `--local-path-helper-image=${o.busyboxImage}`,
        `--log-level=${o.logLevel}`,
      ]);
    } else say("controller-manager/main.ts not in the tree yet: not started");
    // The cluster DNS on port 53 of the pods network's gateway (where the pods' resolv.conf
    // points: --cluster-dns below); port 53 needs root.
    const dnsMain = component("dns");
    const dnsAddress = podNetwork && dnsMain && process.getuid?.() === 0 ? podNetwork.gateway : undefined;
    if (dnsMain && dnsAddress) {
      launch("dns", process.execPath, [
        ...TSX,
        dnsMain,
        kc(pki.kubeconfigs.kubeDns),
        `--dns-bind-address=${dnsAddress}`,
        "--dns-port=53",
        "--bind-address=127.0.0.1",
        `--secure-port=${p.dns}`,
        `--log-level=${o.logLevel}`,
      ]);
    } else if (dnsMain && podNetwork) say("not root: no cluster DNS (it answers on port 53)");
    if (kubeletMain && o.nodes > 0) {
      // No registry here: the sandbox and test images come from scripts/build-images.sh (fast when built).
      if (o.pauseImage.startsWith("kubeling.local/")) {
        say("building local images (scripts/build-images.sh)");
        execFileSync("bash", [join(ROOT, "scripts", "build-images.sh")], { stdio: ["ignore", "ignore", "inherit"] });
      }
      if (stopping) throw new StopRequested();
      for (const node of kubeletNames) {
        launch(`kubelet-${node}`, process.execPath, [
          ...TSX,
          kubeletMain,
          kc(pki.kubeconfigs.kubelets[node]),
          `--hostname-override=${node}`,
          `--cluster-name=${o.clusterName}`,
          // The API server reaches kubelets (logs, exec, port-forward) on loopback, over HTTPS with
          // the serving certificate the cluster CA signed for the node; the API server's
          // kubelet-client certificate authenticates, everyone else needs a token and nodes/proxy.
          "--address=127.0.0.1",
          "--node-ip=127.0.0.1",
          `--port=${p[`kubelet-${node}`]}`,
          `--tls-cert-file=${pki.kubeletServing[node]?.cert}`,
          `--tls-private-key-file=${pki.kubeletServing[node]?.key}`,
          `--client-ca-file=${pki.caCert}`,
          // Several kubelets on one host: each its own plain-HTTP /healthz port, not upstream's 10248.
          `--healthz-port=${p[`kubelet-healthz-${node}`]}`,
          `--pod-infra-container-image=${o.pauseImage}`,
          ...(dnsAddress ? [`--cluster-dns=${dnsAddress}`] : []),
          // In the state dir, so two launchers (or a launcher and the tests) never share one.
          `--root-dir=${join(STATE, "kubelet", node)}`,
          `--log-level=${o.logLevel}`,
        ]);
      }
    } else if (!kubeletMain) say("kubelet/main.ts not in the tree yet: no nodes");
    const proxyMain = component("proxy");
    if (proxyMain && podNetwork) {
      // One kube-proxy for the host (every node's pods share its network namespace), as node-1's.
      // As root: iptables mode, upstream's chains (this cluster's own, by its name); else
      // userspace: node ports and LoadBalancer ports as Node listeners, no cluster IPs.
      launch("proxy", process.execPath, [
        ...TSX,
        proxyMain,
        kc(pki.kubeconfigs.kubeProxy),
        `--proxy-mode=${isRoot() ? "iptables" : "userspace"}`,
        `--cluster-name=${o.clusterName}`,
        `--hostname-override=${kubeletNames[0] ?? "node-1"}`,
        `--cluster-cidr=${podNetwork.subnet}`,
        `--healthz-bind-address=127.0.0.1:${p.proxyHealthz}`,
        `--metrics-bind-address=127.0.0.1:${p.proxyMetrics}`,
        `--log-level=${o.logLevel}`,
      ]);
    }

    say("");
    say(`kubeling is up: API server ${apiURL}, etcd https://127.0.0.1:${p.etcd} (client certificates only)`);
    if (podNetwork)
      say(
        `  pods reach the API server at https://${podNetwork.gateway}:${p.apiserver} (KUBERNETES_SERVICE_HOST/_PORT)`,
      );
    say(`  export KUBECONFIG=${KUBECONFIG}`);
    say("  kubectl get ns        # or: node --conditions=source --import tsx cli/main.ts get ns");
    say(`  logs: ${LOGS}/   Ctrl-C stops everything, the pods' containers and network included`);

    // Stay up; a component that dies is reported, and losing etcd or the API server ends the run.
    await new Promise<void>((res) => {
      for (const r of running) {
        void r.exitedP.then(() => {
          if (stopping) return;
          say(`${r.name} exited (${r.exited?.code ?? r.exited?.signal}); last log lines:\n${tail(r.name)}`);
          if (r.name === "etcd" || r.name === "apiserver") {
            exitCode = 1;
            res();
          }
        });
      }
    });
    await stop("a core component exited");
  } catch (err) {
    // A stop that began during start-up makes the waits fail (etcd, the API server exit): not an error.
    if (!stopping) {
      say(err instanceof Error ? err.message : String(err));
      exitCode = 1;
    }
    await stop("start-up failed");
  }
}

void main();
