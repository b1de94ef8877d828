// Services through kubeling-proxy on real Docker: a harness cluster (two kubelets, the
// controller-manager for the Deployment) with its own service slot, a 3-replica Deployment whose
// containers answer with their hostname (HTTP on 8080, UDP on 5353), and in turn each proxy mode
// on the same pods: iptables (upstream's chains), then userspace (Node sockets, REDIRECT portals
// as root). In each: 300 new connections from the host to 127.0.0.1:<nodePort> reach all 3 pods;
// the cluster IP answers from the host and from inside another pod (busybox nc, DESIGN.md
// section 6), over TCP and UDP; a LoadBalancer service gets its ingress and answers on
// 127.0.0.1:<port>; scaling 3 → 1 takes the others out of rotation within 2 s of the slices
// changing; a service without endpoints refuses at once; a deleted service's rules (or
// listeners) go. Last, `kubeling-proxy --cleanup` leaves no chain, jump or route of the cluster.
// The slices of the selector's services come from the controller-manager's EndpointSlice
// controller when it has one (else the test writes them from the Ready pods); the timing test
// uses a selector-less service whose slice the test writes, so it controls the moment.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import dgram from "node:dgram";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { isNotFound } from "#pkg/api/errors.js";
import { DEPLOYMENTS, ENDPOINTSLICES, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/apps.js";
import { type EndpointSlice, LABEL_SERVICE_NAME } from "#pkg/api/types/discovery.js";
import type { Pod, Service } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER, KUBE_PROXY_USER } from "#pkg/pki/cluster.js";
import { CONTROLLERS } from "../../controller-manager/controllers.js";
import { chainNames, topLevelChains } from "../../proxy/iptables/chains.js";
import { parseSave, reachableChains } from "../../proxy/iptables/iptables.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { clusterContainers, execIn } from "../harness/kubelet.js";
import { type ProxyMode, runProxyCleanup, startProxy, type TestProxy } from "../harness/proxy.js";
import { isReady, spread } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
/** The controller-manager writes the slices of services with a selector. */
const CONTROLLER_SLICES = "endpointslice-controller" in CONTROLLERS;
const NODE_IMAGE = "kubeling.local/node:20";
/** Each container: HTTP on 8080 and UDP on 5353, both answering the pod's hostname (its name). */
const SERVER = [
  "const http = require('http'), dgram = require('dgram'), os = require('os');",
  "http.createServer((q, s) => s.end(os.hostname())).listen(8080);",
  "const u = dgram.createSocket('udp4');",
  "u.on('message', (m, r) => u.send(os.hostname(), r.port, r.address));",
  "u.bind(5353);",
  "process.on('SIGTERM', () => process.exit(0));",
].join(" ");

function webDeployment(replicas: number): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: "web",
              image: NODE_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: ["node", "-e", SERVER],
              readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

function service(name: string, type: string, ports: NonNullable<Service["spec"]>["ports"]): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: NS },
    spec: { type, selector: { app: "web" }, ports },
  };
}

const WEB_PORTS = [
  { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
  { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
];

/** One UDP datagram, the reply's text. */
function udpAsk(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, timeoutMs);
    s.on("message", (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send("who", port, host);
  });
}

/** Whether a TCP connect is refused (not timed out, not accepted). */
function refused(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.on("connect", () => {
      // The userspace proxy accepts, then resets a connection it has no endpoint for.
      s.once("close", (hadError) => {
        clearTimeout(timer);
        resolve(hadError);
      });
      s.once("error", () => undefined);
      s.write("GET / HTTP/1.0\r\n\r\n");
    });
    s.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === "ECONNREFUSED" || err.code === "ECONNRESET");
    });
  });
}

/** Whether a TCP connect is accepted (the connection is then dropped). */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

function iptablesSave(table: "nat" | "filter"): string {
  return execFileSync("iptables-save", ["-t", table], { encoding: "utf8" });
}

/** The chains of the cluster now installed (what its top-level chains reach, and those themselves). */
function clusterChains(clusterName: string): string[] {
  const c = chainNames(clusterName);
  const top = topLevelChains(c);
  const out: string[] = [];
  for (const table of ["nat", "filter"] as const) {
    const saved = parseSave(iptablesSave(table));
    out.push(...reachableChains(saved, top[table]));
    for (const ch of saved.chains) if (ch.endsWith(c.suffix) && !out.includes(ch)) out.push(ch);
  }
  return out;
}

function localRoutes(): string {
  return execFileSync("ip", ["route", "show", "table", "local"], { encoding: "utf8" });
}

describe("Services through kubeling-proxy", { timeout: 600_000 }, () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let proxy: TestProxy | undefined;
  let proxyKubeconfig: string;
  let pods: Pod[] = [];
  let nodePort = 0;
  let udpNodePort = 0;
  let clusterIP = "";
  let clientContainer = "";

  /** Writes the slice of "web" (and any other service fronting app=web) from the Ready pods. */
  async function publishSlices(services: string[] = ["web"], only?: Pod[]): Promise<Pod[]> {
    if (CONTROLLER_SLICES && !only) return [];
    const list = only ? { items: only } : await c.client.list<Pod>(PODS, NS, { labelSelector: "app=web" });
    const ready = list.items.filter((p) => isReady(p) && p.status?.podIP);
    for (const svc of services) {
      const slice: EndpointSlice = {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: `${svc}-test`, namespace: NS, labels: { [LABEL_SERVICE_NAME]: svc } },
        addressType: "IPv4",
        endpoints: ready.map((p) => ({
          addresses: [p.status?.podIP as string],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: p.spec?.nodeName as string,
          targetRef: { kind: "Pod", namespace: NS, name: p.metadata.name as string },
        })),
        ports: [
          { name: "http", port: 8080, protocol: "TCP" },
          { name: "dns", port: 5353, protocol: "UDP" },
        ],
      };
      try {
        const cur = await c.client.get<EndpointSlice>(ENDPOINTSLICES, NS, `${svc}-test`);
        await c.client.update(ENDPOINTSLICES, NS, {
          ...slice,
          metadata: { ...slice.metadata, resourceVersion: cur.metadata.resourceVersion },
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await c.client.create(ENDPOINTSLICES, NS, slice);
      }
    }
    return ready;
  }

  async function readyPods(n: number): Promise<Pod[]> {
    return waitFor(
      async () => {
        const list = await c.client.list<Pod>(PODS, NS, { labelSelector: "app=web" });
        const all = list.items.filter((p) => !p.metadata.deletionTimestamp);
        const ready = all.filter(isReady);
        return all.length === n && ready.length === n ? ready : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, message: `${n} Ready web pods` },
    );
  }

  const names = (ps: Pod[]) => new Set(ps.map((p) => p.metadata.name as string));

  before(async () => {
    c = await startCluster({ serviceSlot: true });
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      clientCAFile: c.api.pki.caCert,
      extraArgs: ["--leader-elect=false"],
    });
    proxyKubeconfig = await c.api.kubeconfigFor({ name: KUBE_PROXY_USER });
    await c.client.create(DEPLOYMENTS, NS, webDeployment(3));
    pods = await readyPods(3);
    await publishSlices();
    const svc = await c.client.create<Service>(SERVICES, NS, service("web", "NodePort", WEB_PORTS));
    clusterIP = svc.spec?.clusterIP as string;
    nodePort = svc.spec?.ports?.find((p) => p.name === "http")?.nodePort as number;
    udpNodePort = svc.spec?.ports?.find((p) => p.name === "dns")?.nodePort as number;
    const client = await c.client.create<Pod>(PODS, NS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "client", namespace: NS },
      spec: {
        terminationGracePeriodSeconds: 0,
        // The node image: busybox's nc for TCP, node for UDP (busybox's nc has no -u here).
        containers: [{ name: "c", image: NODE_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      },
    });
    await waitFor(
      async () => {
        const p = await c.client.get<Pod>(PODS, NS, client.metadata.name as string);
        if (p.status?.phase !== "Running") return false;
        const cs = await clusterContainers(c.clusterName);
        const found = cs.find(
          (x) =>
            x.Labels?.["io.kubernetes.pod.name"] === "client" && x.Labels?.["io.kubernetes.container.name"] === "c",
        );
        clientContainer = found?.Id ?? "";
        return clientContainer !== "";
      },
      { timeoutMs: 60_000, message: "client pod running" },
    );
  });

  after(async () => {
    await proxy?.stop();
    await cm?.stop();
    await c?.stop();
  });

  /** A test of a mode: bounded in time, and failing with the proxy's recent logs. */
  const t = (name: string, fn: () => Promise<void> | void) =>
    test(name, { timeout: 90_000 }, async () => {
      try {
        await fn();
      } catch (err) {
        const logs = proxy?.output().slice(-3000) ?? "";
        throw new Error(`${(err as Error).message}\n--- proxy ---\n${logs}`, { cause: err });
      }
    });

  for (const mode of ["iptables", "userspace"] as ProxyMode[]) {
    describe(`${mode} mode`, () => {
      before(async () => {
        // The cluster was started without a proxy: each mode gets its own on the same pods.
        const slot = c.serviceSlot;
        assert.ok(slot, "the cluster has a service slot");
        proxy = await startProxy({
          kubeconfigPath: proxyKubeconfig,
          clusterName: c.clusterName,
          mode,
          serviceCIDR: slot.serviceCIDR,
          clusterCIDR: c.podNetwork.subnet,
          hostname: "node-1",
          clientCAFile: c.api.pki.caCert,
          credentials: { token: c.api.token },
        });
        await scaleTo(3);
      });

      t("the service range is routed to lo before any rule", () => {
        assert.match(localRoutes(), new RegExp(`local ${c.serviceSlot?.serviceCIDR.replace(/\./g, "\\.")} dev lo`));
      });

      t("300 new connections to 127.0.0.1:<nodePort> reach all 3 pods", async () => {
        const counts = await waitFor(
          async () => {
            const m = await spread("127.0.0.1", nodePort, 300);
            return m.size === 3 ? m : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 200, message: "all 3 pods answer on the node port" },
        );
        assert.deepEqual(new Set(counts.keys()), names(pods));
        for (const [pod, n] of counts) assert.ok(n >= 40, `${pod} got ${n} of 300`);
      });

      t("the cluster IP answers from the host and from inside another pod", async () => {
        const fromHost = await spread(clusterIP, 80, 60);
        assert.deepEqual(new Set(fromHost.keys()), names(pods));
        const seen = new Set<string>();
        for (let i = 0; i < 12 && seen.size < 2; i++) {
          const r = await execIn(clientContainer, [
            "sh",
            "-c",
            `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${clusterIP} 80`,
          ]);
          assert.equal(r.code, 0, r.out);
          const body = r.out.split("\r\n\r\n")[1]?.trim() ?? "";
          assert.ok(names(pods).has(body), `answer ${JSON.stringify(r.out)}`);
          seen.add(body);
        }
        assert.ok(seen.size >= 2, "more than one pod answered the pod's requests");
      });

      t("UDP: the cluster IP and the node port answer", async () => {
        assert.ok(names(pods).has(await udpAsk(clusterIP, 53)));
        assert.ok(names(pods).has(await udpAsk("127.0.0.1", udpNodePort)));
        const r = await execIn(clientContainer, [
          "node",
          "-e",
          `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { console.log(m.toString()); process.exit(0); }); s.send('who', 53, '${clusterIP}'); setTimeout(() => process.exit(1), 2000);`,
        ]);
        assert.ok(names(pods).has(r.out.trim()), `UDP from a pod: ${JSON.stringify(r.out)}`);
      });

      t("a LoadBalancer service gets the host as ingress and answers on 127.0.0.1:<port>", async () => {
        const port = c.serviceSlot?.hostPorts[0] as number;
        await publishSlices(["web", "web-lb"]);
        await c.client.create(
          SERVICES,
          NS,
          service("web-lb", "LoadBalancer", [{ name: "http", port, targetPort: 8080, protocol: "TCP" }]),
        );
        const ingress = await waitFor(
          async () => {
            const s = await c.client.get<Service>(SERVICES, NS, "web-lb");
            return s.status?.loadBalancer?.ingress?.[0];
          },
          { timeoutMs: 20_000, message: "web-lb's status.loadBalancer.ingress" },
        );
        assert.equal(ingress.ip, "127.0.0.1", "the node's address (the harness's kubelets report 127.0.0.1)");
        assert.equal(ingress.ipMode, "VIP");
        // The ingress comes with the first sync of web-lb, which may precede its slice (the
        // controller writes it meanwhile): refused until the endpoints are there.
        const counts = await waitFor(
          async () => {
            const m = await spread("127.0.0.1", port, 300);
            return m.size === 3 ? m : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 100, message: "all 3 pods answer on the LoadBalancer port" },
        );
        assert.deepEqual(new Set(counts.keys()), names(pods));
        await c.client.delete(SERVICES, NS, "web-lb");
        await waitFor(() => refused("127.0.0.1", port), {
          timeoutMs: 10_000,
          message: "web-lb's port closed after delete",
        });
        if (mode === "iptables") assert.ok(!iptablesSave("nat").includes("default/web-lb"), "no rule of web-lb left");
      });

      t("a service without endpoints refuses at once", async () => {
        const svc = await c.client.create<Service>(SERVICES, NS, {
          ...service("empty", "NodePort", [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }]),
          spec: {
            type: "NodePort",
            selector: { app: "nothing" },
            ports: [{ name: "http", port: 80, targetPort: 8080 }],
          },
        });
        try {
          const np = svc.spec?.ports?.[0]?.nodePort as number;
          const ip = svc.spec?.clusterIP as string;
          // Programmed first (before, nothing listened there either: refused anyway).
          if (mode === "iptables")
            await waitFor(() => iptablesSave("filter").includes('"default/empty:http has no endpoints"'), {
              message: "the REJECT rules of the empty service",
            });
          else await waitFor(() => connects("127.0.0.1", np), { message: "the empty service's node port listener" });
          const t0 = Date.now();
          assert.ok(await refused("127.0.0.1", np), "node port refused");
          assert.ok(await refused(ip, 80), "cluster IP refused");
          assert.ok(Date.now() - t0 < 1000, "refused at once, not timed out");
        } finally {
          await c.client.delete(SERVICES, NS, "empty");
        }
      });

      t("a pod leaving the slice gets no more traffic within 2 s", async () => {
        // A selector-less service: its slice is the test's (no controller writes it).
        const manual = await c.client.create<Service>(SERVICES, NS, {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "manual", namespace: NS },
          spec: { type: "NodePort", ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
        });
        const np = manual.spec?.ports?.[0]?.nodePort as number;
        try {
          await publishSlices(["manual"], pods);
          await waitFor(async () => (await spread("127.0.0.1", np, 60)).size === 3, {
            timeoutMs: 10_000,
            message: "the manual service balances over 3 pods",
          });
          const keep = pods[0] as Pod;
          const t0 = Date.now();
          await publishSlices(["manual"], [keep]);
          await waitFor(
            async () => {
              const m = await spread("127.0.0.1", np, 20);
              return m.size === 1 && m.has(keep.metadata.name as string);
            },
            { timeoutMs: 2000, intervalMs: 20, message: "only the pod left in the slice answers" },
          );
          const converged = Date.now() - t0;
          const m = await spread("127.0.0.1", np, 100);
          assert.deepEqual([...m.keys()], [keep.metadata.name]);
          assert.ok(converged < 2000, `converged in ${converged} ms`);
        } finally {
          await c.client.delete(SERVICES, NS, "manual");
          await c.client.delete(ENDPOINTSLICES, NS, "manual-test").catch(() => undefined);
        }
      });

      t("scaling 3 → 1 → 3: only the remaining pod answers, then all three", async () => {
        await scaleTo(1);
        const only = names(pods);
        await waitFor(
          async () => {
            const m = await spread("127.0.0.1", nodePort, 30);
            return m.size === 1 && only.has([...m.keys()][0] as string);
          },
          { timeoutMs: 5000, message: "only the remaining pod answers" },
        );
        await scaleTo(3);
        await waitFor(async () => (await spread("127.0.0.1", nodePort, 60)).size === 3, {
          timeoutMs: 5000,
          message: "three pods answer again",
        });
      });

      if (mode === "iptables") {
        t("the rules are upstream's chains, and the metrics report them", async () => {
          const chains = clusterChains(c.clusterName);
          const own = chainNames(c.clusterName);
          for (const top of [own.services, own.nodePorts, own.postrouting, own.markMasq])
            assert.ok(chains.includes(top), top);
          assert.ok(chains.some((ch) => ch.startsWith("KUBE-SVC-")) && chains.some((ch) => ch.startsWith("KUBE-SEP-")));
          const nat = iptablesSave("nat");
          assert.match(nat, /-A PREROUTING .*-j KUBE-SERVICES-[A-Z2-7]{5}/);
          // iptables keeps the probability as a 32-bit fraction: 1/3 reads back as 0.33333333326.
          await waitFor(() => /--mode random --probability 0\.333333333/.test(iptablesSave("nat")), {
            message: "three endpoints balanced 1/3, 1/2, 1",
          });
          const anonymous = await proxy?.get("/metrics", {});
          assert.equal(anonymous?.status, 403, "anonymous users may not read /metrics");
          const metrics = (await proxy?.get("/metrics"))?.body ?? "";
          assert.match(metrics, /kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/);
          assert.match(metrics, /kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} [1-9]/);
        });
      }

      after(async () => {
        await proxy?.end();
        const r = await runProxyCleanup({
          clusterName: c.clusterName,
          serviceCIDR: c.serviceSlot?.serviceCIDR as string,
        });
        assert.equal(r.code, 0, r.out);
        proxy = undefined;
        // --cleanup leaves no chain, jump or route of the cluster (others' stay untouched).
        assert.deepEqual(clusterChains(c.clusterName), []);
        const nc = chainNames(c.clusterName);
        assert.ok(!iptablesSave("nat").includes(nc.suffix) && !iptablesSave("filter").includes(nc.suffix));
        assert.ok(!localRoutes().includes(c.serviceSlot?.serviceCIDR as string));
      });
    });
  }

  async function scaleTo(n: number): Promise<void> {
    const d = await c.client.get<Deployment>(DEPLOYMENTS, NS, "web");
    if (d.spec?.replicas !== n) {
      await c.client.patch(DEPLOYMENTS, NS, "web", { spec: { replicas: n } }, "merge");
    }
    pods = await readyPods(n);
    await publishSlices();
  }
});
