// The user's way in (README quick start): `bash scripts/compose.sh up -d` builds the kubeling
// image and starts etcd, the API server, the scheduler, the controller manager and two kubelets in
// Docker; the exported kubeconfig works for the real kubectl; a pod bound to node-1 runs as a
// Docker container; the controller manager gives the default namespace its ServiceAccount, whose
// `kubectl create token` authenticates (the pki service's sa.key, kubeadm's issuer); kubectl exec
// reaches a pod through its kubelet's TLS port, at the kubelet's name; etcd is
// TLS-only and unpublished, and each component runs under its own identity; from inside a pod (on the
// pods network) the API server answers at KUBERNETES_SERVICE_HOST:_PORT, the `kubernetes` Service's
// cluster IP that kube-proxy (iptables mode, in the host's network) carries to it, with a certificate
// for that address, while etcd, the scheduler and the controller-manager (control-plane network only) cannot
// be reached. Everything gets a name of its own (compose project, pods network and its subnet, image
// tag, API port, state dir, and a service slot: cluster IPs and node ports), so the test runs beside
// a user's cluster, and `compose.sh down -v` (kube-proxy's --cleanup included) plus `docker rmi`
// remove what it made. Secrets are encrypted at rest by default: etcdctl in etcd's container reads
// upstream's aescbc prefix, not the plaintext. A pod's claim of the default class `standard` is
// provisioned as a directory under its kubelet's --root-dir, which the host sees at the same path.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  CONFIGMAPS,
  ENDPOINTS,
  ENDPOINTSLICES,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  SECRETS,
  SERVICEACCOUNTS,
  SERVICES,
} from "#pkg/api/resources.js";
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service } from "#pkg/api/types/index.js";
import { ApiClient } from "#pkg/client/client.js";
import { loadKubeconfig, parseKubeconfig } from "#pkg/client/kubeconfig.js";
import { certInfo } from "#pkg/pki/certs.js";
import { chainNames } from "../../proxy/iptables/chains.js";
import { cidrsOverlap } from "../harness/network.js";
import { freePort } from "../harness/ports.js";
import { claimServiceSlot, type ServiceSlot } from "../harness/service-slots.js";
import { waitFor } from "../harness/wait.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";

const id = randomBytes(4).toString("hex");
const name = `kl-compose-${id}`;
const PYTHON = process.env.PYTHON_IMAGE ?? "kubeling.local/python:3";
/** The pods network's /24 and the fixed addresses on it (set in before()). */
let podNet: { subnet: string; ipRange: string; apiserver: string; dns: string };

/** A /24 for the pods network that overlaps no Docker network of this host, nor the Service range. */
async function freePodSubnet(): Promise<typeof podNet> {
  const { stdout: ids } = await run("docker", ["network", "ls", "-q"]);
  const { stdout } = await run("docker", [
    "network",
    "inspect",
    "--format",
    "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
    ...ids.trim().split("\n").filter(Boolean),
  ]);
  const taken = stdout.split(/\s+/).filter((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
  taken.push("10.96.0.0/12");
  for (let i = 0; i < 100; i++) {
    const [a = 0, b = 0] = randomBytes(2);
    const prefix = `10.${200 + (a % 50)}.${b}`;
    const subnet = `${prefix}.0/24`;
    if (taken.some((t) => cidrsOverlap(t, subnet))) continue;
    return { subnet, ipRange: `${prefix}.128/25`, apiserver: `${prefix}.2`, dns: `${prefix}.3` };
  }
  throw new Error(`no free /24 in 10.200.0.0-10.249.255.0 beside ${taken.join(" ")}`);
}
let stateDir: string;
let env: NodeJS.ProcessEnv;
let client: ApiClient | undefined;
let upStarted = false;
/** The Service range and node ports of this cluster's kube-proxy, which programs the host. */
let slot: ServiceSlot | undefined;

/** compose runs scripts/compose.sh with the test's environment; rejects with its output on failure. */
function compose(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ROOT, "scripts/compose.sh"), ...args], { cwd: ROOT, env, stdio: "pipe" });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-8000);
    });
    child.stderr.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-8000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`compose.sh ${args.join(" ")} failed (${code ?? signal}):\n${out}`));
    });
  });
}

/** newest mtime of the TypeScript sources the image's dist/ is compiled from. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist" || entry.startsWith(".")) continue;
    const p = join(dir, entry);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.endsWith(".ts")) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

function distIsCurrent(): boolean {
  const built = join(ROOT, "dist/apiserver/main.js");
  if (!existsSync(built)) return false;
  const mtime = statSync(built).mtimeMs;
  return ["pkg", "apiserver", "kubelet", "cli"].every(
    (d) => !existsSync(join(ROOT, d)) || newestSource(join(ROOT, d)) <= mtime,
  );
}

before(async () => {
  const v2 = await run("docker", ["compose", "version"]).then(
    () => true,
    () => false,
  );
  const v1 = await run("docker-compose", ["version"]).then(
    () => true,
    () => false,
  );
  if (!v2 && !v1)
    throw new Error("neither `docker compose` nor `docker-compose` is installed (Debian: docker-compose)");
  stateDir = await mkdtemp(join(tmpdir(), "kubeling-compose-"));
  podNet = await freePodSubnet();
  slot = await claimServiceSlot();
  env = {
    ...process.env,
    COMPOSE_PROJECT_NAME: name,
    KUBELING_CLUSTER_NAME: name,
    KUBELING_IMAGE: `kubeling:${name}`,
    KUBELING_API_PORT: String(await freePort()),
    // kube-proxy shares the host's network: free ports, beside a user's cluster.
    KUBELING_PROXY_HEALTHZ_BIND_ADDRESS: "127.0.0.1:0",
    KUBELING_PROXY_METRICS_BIND_ADDRESS: "127.0.0.1:0",
    KUBELING_STATE_DIR: stateDir,
    KUBELING_POD_SUBNET: podNet.subnet,
    KUBELING_POD_IP_RANGE: podNet.ipRange,
    KUBELING_APISERVER_POD_ADDRESS: podNet.apiserver,
    KUBELING_DNS_POD_ADDRESS: podNet.dns,
    KUBELING_SERVICE_CIDR: slot.serviceCIDR,
    KUBELING_NODE_PORT_RANGE: slot.nodePortRange,
    // .ci/run compiled dist/ just before the tests; a developer's stale dist/ is rebuilt.
    KUBELING_NPM_BUILD: distIsCurrent() ? "0" : "1",
  };
  upStarted = true;
  await compose(["up", "-d"], 300_000);
  client = ApiClient.fromKubeconfig({ path: join(stateDir, "kubeconfig") });
});

after(async () => {
  await client?.close();
  if (upStarted) {
    await compose(["down", "-v"], 120_000).catch((err: unknown) => {
      console.error(err);
    });
    await run("docker", ["rmi", "-f", `kubeling:${name}`]).catch(() => undefined);
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  await slot?.release();
  // kube-proxy ran in iptables mode in the host's network: `down` ran its --cleanup.
  const { suffix } = chainNames(name);
  for (const table of ["nat", "filter"]) {
    const { stdout } = await run("iptables-save", ["-t", table]);
    assert.ok(!stdout.includes(suffix), `no ${table} chain of cluster ${name} is left on the host`);
  }
  assert.equal(
    existsSync(`/var/lib/kubeling-kubelet/${name}`),
    false,
    "compose.sh down -v removes the pod volume dirs",
  );
});

test("both kubelets register their Nodes, and they turn Ready", async () => {
  const c = client!;
  await waitFor(
    async () => {
      const list = await c.list<Node>(NODES, undefined);
      const ready = list.items.filter((n) =>
        (n.status?.conditions ?? []).some((cond) => cond.type === "Ready" && cond.status === "True"),
      );
      return ready.length === 2 ? ready : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, message: "node-1 and node-2 Ready" },
  );
  const names = (await c.list<Node>(NODES, undefined)).items.map((n) => n.metadata.name).sort();
  assert.deepEqual(names, ["node-1", "node-2"]);
});

test("the exported kubeconfig works for the real kubectl", async () => {
  const { stdout } = await run(KUBECTL, ["--kubeconfig", join(stateDir, "kubeconfig"), "get", "nodes", "-o", "name"], {
    env: { ...process.env, HOME: stateDir },
  });
  assert.deepEqual(stdout.trim().split("\n").sort(), ["node/node-1", "node/node-2"]);
});

test("a pod bound to node-1 runs as a container of the cluster", async () => {
  const c = client!;
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "sleeper", namespace: "default" },
    spec: {
      nodeName: "node-1",
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "main",
          image: process.env.BUSYBOX_IMAGE ?? "kubeling.local/busybox:latest",
          imagePullPolicy: "IfNotPresent",
          // The emptyDir lives under the kubelet's --root-dir, which Docker must find on the host.
          command: ["sh", "-c", "echo written > /data/proof && exec sleep 3600"],
          volumeMounts: [{ name: "scratch", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "scratch", emptyDir: {} }],
    },
  };
  await c.create(PODS, "default", pod);
  const running = await waitFor(
    async () => {
      const p = await c.get<Pod>(PODS, "default", "sleeper");
      return p.status?.phase === "Running" ? p : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, message: "pod sleeper Running" },
  );
  assert.ok(running.status?.podIP, "a Running pod has an IP on the cluster network");
  const { stdout } = await run("docker", [
    "ps",
    "--filter",
    `label=kubeling.io/cluster=${name}`,
    "--filter",
    "label=io.kubernetes.pod.name=sleeper",
    "--filter",
    "label=io.kubernetes.container.name=main",
    "--format",
    "{{.Names}}",
  ]);
  assert.match(stdout, /^k8s_main_sleeper_default_/m);
  const container = stdout.trim().split("\n")[0] ?? "";
  const proof = await waitFor(
    async () => {
      const r = await run("docker", ["exec", container, "cat", "/data/proof"]).catch(() => undefined);
      return r?.stdout.trim() === "written" ? r.stdout : undefined;
    },
    { timeoutMs: 10_000, message: "the container wrote into its emptyDir" },
  );
  assert.equal(proof.trim(), "written");
});

test("the scheduler places a pod without nodeName, and its kubelet runs it", async () => {
  const c = client!;
  await c.create(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "placed", namespace: "default" },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "main",
          image: process.env.BUSYBOX_IMAGE ?? "kubeling.local/busybox:latest",
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "3600"],
        },
      ],
    },
  });
  const running = await waitFor(
    async () => {
      const p = await c.get<Pod>(PODS, "default", "placed");
      return p.status?.phase === "Running" ? p : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, message: "pod placed scheduled and Running" },
  );
  assert.ok(["node-1", "node-2"].includes(running.spec?.nodeName ?? ""), `bound to ${running.spec?.nodeName}`);
});

test("storage: a pod's claim of the default class standard is a directory under its kubelet's --root-dir", async () => {
  const c = client!;
  await c.create(PERSISTENTVOLUMECLAIMS, "default", {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "16Mi" } } },
  });
  await c.create(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "writer", namespace: "default" },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "main",
          image: process.env.BUSYBOX_IMAGE ?? "kubeling.local/busybox:latest",
          imagePullPolicy: "IfNotPresent",
          command: ["sh", "-c", "echo stored > /data/proof"],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
    },
  });
  const done = await waitFor(
    async () => {
      const p = await c.get<Pod>(PODS, "default", "writer");
      return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500, message: "pod writer finished" },
  );
  assert.equal(done.status?.phase, "Succeeded", JSON.stringify(done.status));
  const claim = await c.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "data");
  assert.equal(claim.status?.phase, "Bound");
  assert.equal(claim.spec?.storageClassName, "standard");
  const pv = await c.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, claim.spec?.volumeName ?? "");
  // The kubelet's --root-dir is the same path on the host and in its container.
  const dir = `/var/lib/kubeling-kubelet/${name}/${done.spec?.nodeName}/local-path/pvc-${claim.metadata.uid}_default_data`;
  assert.equal(pv.spec?.hostPath?.path, dir);
  assert.equal(readFileSync(join(dir, "proof"), "utf8").trim(), "stored");
});

test("kubectl exec reaches the pod's kubelet over TLS, by its name (the kubelet-client certificate)", async () => {
  const { stdout } = await run(
    KUBECTL,
    ["--kubeconfig", join(stateDir, "kubeconfig"), "exec", "placed", "--", "sh", "-c", "echo exec-ok"],
    { env: { ...process.env, HOME: stateDir } },
  );
  assert.equal(stdout.trim(), "exec-ok");
});

test("the controller manager gives every namespace its default ServiceAccount", async () => {
  const c = client!;
  await waitFor(() => c.get(SERVICEACCOUNTS, "default", "default"), {
    timeoutMs: 90_000,
    intervalMs: 500,
    message: "default/default ServiceAccount",
  });
});

test("kubectl create token: the default ServiceAccount's token, signed with the pki's sa.key, authenticates", async () => {
  const kubectl = (args: string[]) =>
    run(KUBECTL, ["--kubeconfig", join(stateDir, "kubeconfig"), ...args], { env: { ...process.env, HOME: stateDir } });
  const token = (await kubectl(["create", "token", "default"])).stdout.trim();
  const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
  assert.equal(claims.iss, "https://kubernetes.default.svc.cluster.local");
  assert.equal(claims.sub, "system:serviceaccount:default:default");
  const review = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } });
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      ["--kubeconfig", join(stateDir, "kubeconfig"), "create", "--validate=false", "-f", "-", "-o", "json"],
      { env: { ...process.env, HOME: stateDir } },
      (err, out) => (err ? reject(err) : resolve({ stdout: out })),
    );
    child.stdin?.end(review);
  });
  const status = JSON.parse(stdout).status;
  assert.equal(status.authenticated, true, stdout);
  assert.equal(status.user.username, "system:serviceaccount:default:default");
});

/** The running container of a compose service of this project. */
async function containerOf(service: string): Promise<string> {
  const { stdout } = await run("docker", [
    "ps",
    "-q",
    "--filter",
    `label=com.docker.compose.project=${name}`,
    "--filter",
    `label=com.docker.compose.service=${service}`,
  ]);
  const id = stdout.trim().split("\n")[0];
  assert.ok(id, `a running ${service} container`);
  return id;
}

test("etcd publishes no port", async () => {
  const etcd = await containerOf("etcd");
  const { stdout: ports } = await run("docker", ["port", etcd]);
  assert.equal(ports.trim(), "", "no published port");
  const { stdout: bindings } = await run("docker", ["inspect", "--format", "{{json .HostConfig.PortBindings}}", etcd]);
  assert.doesNotMatch(bindings, /HostPort/);
});

/** The Docker networks a container is on, by name, with its address on each. */
async function addressesOf(container: string): Promise<Record<string, string>> {
  const { stdout } = await run("docker", ["inspect", "--format", "{{json .NetworkSettings.Networks}}", container]);
  const nets = JSON.parse(stdout) as Record<string, { IPAddress: string }>;
  return Object.fromEntries(Object.entries(nets).map(([n, v]) => [n, v.IPAddress]));
}

test("Secrets are encrypted at rest by default: etcdctl in etcd's container reads k8s:enc:aescbc:v1:key1:", async () => {
  const c = client!;
  const plaintext = `compose-secret-${id}`;
  await c.create(SECRETS, "default", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "at-rest" },
    data: { password: Buffer.from(plaintext).toString("base64") },
  });
  // etcd's own certificates (clientAuth too), from inside its container: nothing else reaches it.
  const { stdout } = await run("docker", [
    "exec",
    await containerOf("etcd"),
    "/usr/local/bin/etcdctl",
    "--endpoints=https://127.0.0.1:2379",
    "--cacert=/etc/etcd/pki/ca.crt",
    "--cert=/etc/etcd/pki/server.crt",
    "--key=/etc/etcd/pki/server.key",
    "get",
    "/registry/secrets/default/at-rest",
    "-w",
    "json",
  ]);
  const kv = (JSON.parse(stdout) as { kvs?: { value: string }[] }).kvs?.[0];
  assert.ok(kv, "the Secret is in etcd");
  const value = Buffer.from(kv.value, "base64");
  assert.equal(value.subarray(0, 23).toString(), "k8s:enc:aescbc:v1:key1:");
  for (const needle of [plaintext, Buffer.from(plaintext).toString("base64"), '"kind"'])
    assert.ok(!value.includes(Buffer.from(needle)), `no ${needle} in etcd`);
  const got = await c.get<Secret>(SECRETS, "default", "at-rest");
  assert.equal(Buffer.from(got.data?.password ?? "", "base64").toString(), plaintext);
});

test("the networks: etcd, the scheduler and the controller-manager on the control plane only", async () => {
  const controlPlane = `${name}_control-plane`;
  const on = async (service: string) => Object.keys(await addressesOf(await containerOf(service))).sort();
  for (const service of ["etcd", "scheduler", "controller-manager"])
    assert.deepEqual(await on(service), [controlPlane], service);
  for (const service of ["apiserver", "dns", "kubelet-1", "kubelet-2"])
    assert.deepEqual(await on(service), [controlPlane, name].sort(), service);
  assert.equal((await addressesOf(await containerOf("apiserver")))[name], podNet.apiserver);
  assert.equal((await addressesOf(await containerOf("dns")))[name], podNet.dns);
  const { stdout } = await run("docker", ["network", "inspect", "--format", "{{json .Labels}}", name]);
  assert.equal(JSON.parse(stdout)["kubeling.io/cluster"], name);
});

test("from a pod: the API server at KUBERNETES_SERVICE_HOST:_PORT (the kubernetes Service), and neither etcd nor the scheduler nor the controller-manager", async () => {
  const c = client!;
  const ep = await c.get(ENDPOINTS, "default", "kubernetes");
  assert.deepEqual(ep.subsets, [
    { addresses: [{ ip: podNet.apiserver }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] },
  ]);
  // The cluster CA in the pod, to verify the API server's certificate at the kubernetes Service's cluster IP.
  const caPem = loadKubeconfig({ path: join(stateDir, "kubeconfig") }).caPem as string;
  await c.create(CONFIGMAPS, "default", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cluster-ca" },
    data: { "ca.crt": caPem },
  });
  await c.create(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "prober", namespace: "default" },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "c",
          // Python's urllib for https, busybox's nc and timeout.
          image: PYTHON,
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "3600"],
          volumeMounts: [{ name: "ca", mountPath: "/ca" }],
        },
      ],
      volumes: [{ name: "ca", configMap: { name: "cluster-ca" } }],
    },
  });
  await waitFor(
    async () => {
      const p = await c.get<Pod>(PODS, "default", "prober");
      return p.status?.phase === "Running" ? p : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, message: "pod prober Running" },
  );
  const exec = async (script: string) =>
    (
      await run(KUBECTL, ["--kubeconfig", join(stateDir, "kubeconfig"), "exec", "prober", "--", "sh", "-c", script], {
        env: { ...process.env, HOME: stateDir },
      })
    ).stdout;
  const env = await exec("echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT");
  assert.equal(env.trim(), `${slot?.firstIP}:443`, "the kubernetes Service's cluster IP and port");
  // No credentials: system:anonymous, whom the bootstrap policy lets read /version.
  const version = await exec(
    [
      'python3 -c "import os, ssl, urllib.request',
      "ctx = ssl.create_default_context(cafile='/ca/ca.crt')",
      "url = 'https://%s:%s/version' % (os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT'])",
      'print(urllib.request.urlopen(url, context=ctx, timeout=10).read().decode())"',
    ].join("\n"),
  );
  assert.match(JSON.parse(version).gitVersion, /^v1\./);
  // The cluster DNS on the pods network is the pod's nameserver, and it answers.
  assert.match(
    await exec("cat /etc/resolv.conf"),
    new RegExp(`^nameserver ${podNet.dns.replaceAll(".", "\\.")}$`, "m"),
  );
  const svc = await c.get(SERVICES, "default", "kubernetes");
  const resolved = await exec(
    `python3 -c "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))"`,
  );
  assert.equal(resolved.trim(), svc.spec?.clusterIP);
  // Their addresses on the control-plane network, where pods have no route.
  const controlPlane = `${name}_control-plane`;
  const targets: Array<[string, string, number]> = [
    ["etcd", (await addressesOf(await containerOf("etcd")))[controlPlane] ?? "", 2379],
    ["scheduler", (await addressesOf(await containerOf("scheduler")))[controlPlane] ?? "", 10259],
    ["controller-manager", (await addressesOf(await containerOf("controller-manager")))[controlPlane] ?? "", 10257],
  ];
  // They are there on the control plane (the API server's container dials them), so the pod's
  // failures below are the networks', not wrong addresses.
  const apiserver = await containerOf("apiserver");
  for (const [service, ip, port] of targets) {
    const dial = `require('net').connect(${port}, '${ip}').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
    await run("docker", ["exec", apiserver, "node", "-e", dial]).catch((err: unknown) => {
      assert.fail(`${service} at ${ip}:${port} from the control plane: ${err}`);
    });
  }
  const probe = (h: string, p: number) =>
    `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc -w 2 ${h} ${p} >/dev/null 2>&1; echo "${h}:${p} rc=$?"`;
  const out = await exec([probe(podNet.apiserver, 6443), ...targets.map(([, ip, port]) => probe(ip, port))].join("; "));
  const rc = new Map([...out.matchAll(/^(\S+) rc=(\d+)$/gm)].map((m) => [m[1] as string, Number(m[2])]));
  assert.equal(rc.get(`${podNet.apiserver}:6443`), 0, `the API server is reachable: ${out}`);
  for (const [service, ip, port] of targets)
    assert.notEqual(
      rc.get(`${ip}:${port}`) ?? 0,
      0,
      `${service} at ${ip}:${port} must not be reachable from a pod: ${out}`,
    );
});

test("every component runs under its own client certificate, and sees no one else's", async () => {
  const identity = async (service: string) => {
    const c = await containerOf(service);
    const { stdout: files } = await run("docker", ["exec", c, "ls", "/var/lib/kubeling"]);
    // Its kubeconfig, the CA's certificate (--client-ca-file), a kubelet its serving pair: no other key.
    const own = service.startsWith("kubelet-")
      ? ["ca.crt", "kubeconfig", "kubelet.crt", "kubelet.key"]
      : ["ca.crt", "kubeconfig"];
    assert.deepEqual(files.trim().split("\n"), own, `${service} holds only its own credentials`);
    const { stdout } = await run("docker", ["exec", c, "cat", "/var/lib/kubeling/kubeconfig"]);
    const config = parseKubeconfig(stdout, { source: service });
    assert.equal(config.token, undefined);
    const info = certInfo(config.certPem as string);
    return [info.commonName, ...info.organizations].join(" ");
  };
  assert.equal(await identity("scheduler"), "system:kube-scheduler");
  assert.equal(await identity("controller-manager"), "system:kube-controller-manager");
  assert.equal(await identity("kubelet-1"), "system:node:node-1 system:nodes");
  assert.equal(await identity("kubelet-2"), "system:node:node-2 system:nodes");
  const admin = loadKubeconfig({ path: join(stateDir, "kubeconfig") });
  assert.equal(certInfo(admin.certPem as string).commonName, "kubernetes-admin");
});

test("kube-proxy runs in the host's network as system:kube-proxy: a NodePort answers on 127.0.0.1, published nowhere", async () => {
  const c = client as ApiClient;
  const proxy = await containerOf("proxy");
  const { stdout: mode } = await run("docker", ["inspect", "-f", "{{.HostConfig.NetworkMode}}", proxy]);
  assert.equal(mode.trim(), "host");
  const { stdout: kubeconfig } = await run("docker", ["exec", proxy, "cat", "/var/lib/kubeling/kubeconfig"]);
  const config = parseKubeconfig(kubeconfig, { source: "proxy" });
  assert.equal(certInfo(config.certPem as string).commonName, "system:kube-proxy");
  // The local node image (scripts/build-images.sh) as a web server; the Service's node port is
  // opened on the host by the proxy (userspace listeners, or iptables rules when the image has them).
  await c.create(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: "web",
          image: "kubeling.local/node:20",
          imagePullPolicy: "IfNotPresent",
          command: ["node", "-e", "require('http').createServer((q, s) => s.end('hello from web')).listen(8080)"],
          readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  });
  const svc = await c.create<Service>(SERVICES, "default", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    // No selector: the test writes the slice (whatever the controller-manager runs).
    spec: { type: "NodePort", ports: [{ name: "http", port: 80, targetPort: 8080 }] },
  });
  const pod = await waitFor(
    async () => {
      const p = await c.get<Pod>(PODS, "default", "web");
      return p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") && p.status.podIP
        ? p
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, message: "pod web Ready" },
  );
  await c.create(ENDPOINTSLICES, "default", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: [pod.status?.podIP as string], conditions: { ready: true } }],
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  });
  const nodePort = svc.spec?.ports?.[0]?.nodePort as number;
  const body = await waitFor(
    async () => {
      const r = await fetch(`http://127.0.0.1:${nodePort}/`, { signal: AbortSignal.timeout(2000) });
      return r.ok ? await r.text() : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, message: `web on 127.0.0.1:${nodePort}` },
  ).catch(async (err: Error) => {
    const { stdout, stderr } = await run("docker", ["logs", "--tail", "30", proxy]);
    throw new Error(`${err.message}\n--- proxy ---\n${stdout}${stderr}`);
  });
  assert.equal(body, "hello from web");
  await c.delete(SERVICES, "default", "web");
  await c.delete(PODS, "default", "web");
});
