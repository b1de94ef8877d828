// DaemonSets and StatefulSets on real Docker (issue 11): the API server, the scheduler, two
// kubelets and kubeling-controller-manager (its own identity; the daemonset, statefulset,
// garbage collector and PVC protection controllers), driven by the real kubectl.
// DaemonSet: one pod per Ready node, a NoSchedule taint keeps pods off unless tolerated, an image
// update rolls node by node (watched: never more than maxUnavailable nodes without a ready pod),
// kubectl rollout status / history / undo. StatefulSet: web-0, web-1, web-2 start in order (web-1
// created only once web-0 is Ready, from one watch), each with its own claim; the test plays the
// PV binder (a hostPath PV per claim, on the host both kubelets share), so the data a pod wrote
// is there again when web-1 is deleted and comes back with the same claim; scale down removes
// web-2 first; a partitioned rolling update changes only ordinals >= partition; kubectl rollout
// status sts; a StatefulSet of the default class `standard` gets its claims provisioned by the
// local-path provisioner and keeps its data across a pod's deletion; each pod resolves as <pod>.<serviceName> through kubeling-dns (also the new web-1).

import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as dns from "dns-packet";
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STATEFULSETS } from "#pkg/api/resources.js";
import type { StatefulSet } from "#pkg/api/types/apps.js";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER, KUBE_DNS_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { startDns, type TestDns } from "../harness/dns.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { containerStatus, docker, execIn } from "../harness/kubelet.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
/** A second tag of the local busybox, so an image change needs no pull. */
const BUSYBOX_V2 = "kubeling.local/busybox:e2e-sets-v2";

/** The A records kubeling-dns on 127.0.0.1:port answers for name. */
async function resolveA(port: number, name: string): Promise<string[]> {
  const sock = createSocket("udp4");
  try {
    const answer = await new Promise<dns.Packet>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DNS answer for ${name}`)), 3000);
      sock.once("message", (m) => {
        clearTimeout(timer);
        resolve(dns.decode(m));
      });
      sock.send(dns.encode({ type: "query", id: 7, questions: [{ type: "A", name }] }), port, "127.0.0.1");
    });
    return (answer.answers ?? []).flatMap((a) => (a.type === "A" ? [String(a.data)] : []));
  } finally {
    sock.close();
  }
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const isLive = (p: Pod) => !p.metadata.deletionTimestamp;

const daemonSetYaml = (name: string, tolerate: boolean) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
spec:
  selector:
    matchLabels: {app: ${name}}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 1
${tolerate ? "      tolerations:\n      - {key: e2e, operator: Exists, effect: NoSchedule}\n" : ""}      containers:
      - name: c
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [sleep, "3600"]
`;

const statefulSetYaml = (name = "web", claim = "www", storageClass: string | null = "") => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports:
  - {port: 80}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
spec:
  replicas: ${name === "web" ? 3 : 2}
  serviceName: ${name}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'hostname >> /data/log; exec sleep 3600']
        volumeMounts:
        - {name: ${claim}, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: ${claim}
    spec:
      accessModes: [ReadWriteOnce]
${storageClass === null ? "" : `      storageClassName: "${storageClass}"\n`}      resources:
        requests: {storage: 1Gi}
`;

describe("DaemonSets and StatefulSets on two kubelets", () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let dnsServer: TestDns;
  let kubectl: Kubectl;
  let dir: string;
  const binder = new AbortController();
  let binding: Promise<void> | undefined;

  /** What a StatefulSet pod's container has appended to /data/log (one hostname per start). */
  const log = async (pod: string) => {
    const p = await c.client.get<Pod>(PODS, NS, pod);
    const id = (containerStatus(p, "c")?.containerID ?? "").replace("docker://", "");
    return (await execIn(id, ["cat", "/data/log"])).out;
  };

  /** The live pods of app=<name>. */
  const podsOf = async (name: string) =>
    (await c.client.list<Pod>(PODS, NS, { labelSelector: `app=${name}` })).items.filter(isLive);

  /** Waits (watching) until app=<name> has exactly one ready pod on each of `nodes`. */
  async function onNodes(name: string, nodes: string[], timeoutMs = 90_000): Promise<Pod[]> {
    const pods = await watchUntil(
      c.client,
      PODS,
      NS,
      (ps) => {
        const live = ps.filter(isLive);
        const on = live.map((p) => p.spec?.nodeName ?? "").sort();
        return on.join() === [...nodes].sort().join() && live.every(isReady);
      },
      { labelSelector: `app=${name}`, timeoutMs, message: `one ready pod of ${name} on each of ${nodes.join(",")}` },
    );
    return pods.filter(isLive);
  }

  /** The PV binder's part for the StatefulSet's claims: a hostPath PV per claim, both sides bound. */
  async function bindClaims(signal: AbortSignal): Promise<void> {
    const done = new Set<string>();
    while (!signal.aborted) {
      try {
        for await (const ev of c.client.watch<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS, {}, signal)) {
          const pvc = ev.object;
          const name = pvc.metadata.name ?? "";
          // Only claims of no class: the default class's are the PV binder's and the provisioner's.
          if (ev.type !== "ADDED" || done.has(name) || pvc.spec?.volumeName || pvc.spec?.storageClassName !== "")
            continue;
          done.add(name);
          await bind(pvc);
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    }
  }

  /** A hostPath PV pre-bound to the claim (claimRef with its uid): the PV binder completes the binding. */
  async function bind(pvc: PersistentVolumeClaim): Promise<void> {
    const claim = pvc.metadata.name ?? "";
    await c.client.create<PersistentVolume>(PERSISTENTVOLUMES, undefined, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `pv-${claim}` },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "",
        hostPath: { path: join(dir, claim), type: "DirectoryOrCreate" },
        claimRef: { kind: "PersistentVolumeClaim", namespace: NS, name: claim, uid: pvc.metadata.uid ?? "" },
      },
    });
  }

  before(async () => {
    c = await startCluster();
    const image = await docker.getImage(BUSYBOX_IMAGE).inspect();
    await docker.getImage(image.Id).tag({ repo: "kubeling.local/busybox", tag: "e2e-sets-v2" });
    dir = mkdtempSync(join(tmpdir(), "kubeling-sets-"));
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      extraArgs: [
        "--leader-elect=false",
        "--controllers=daemonset,statefulset,garbagecollector,endpoints-controller,persistentvolume-binder,local-path-provisioner,serviceaccount,pvc-protection,pv-protection",
      ],
    });
    // kubeling-dns on loopback: the StatefulSet's pods by name through the headless Service.
    dnsServer = await startDns({
      kubeconfigPath: await c.api.kubeconfigFor({ name: KUBE_DNS_USER }),
      address: "127.0.0.1",
      port: await freePort(),
    });
    kubectl = kubectlFor(c.kubeconfigPath);
    binding = bindClaims(binder.signal);
  });

  after(async () => {
    binder.abort();
    await binding?.catch(() => undefined);
    kubectl?.close();
    await dnsServer?.stop();
    await cm?.stop();
    await c?.stop();
    await docker
      .getImage(BUSYBOX_V2)
      .remove()
      .catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a DaemonSet: one pod per Ready node, none on a NoSchedule-tainted node unless tolerated; an update rolls node by node", async () => {
    await kubectl.ok(["taint", "nodes", "node-2", "e2e=only:NoSchedule"]);
    assert.match(
      await kubectl.ok(["apply", "-f", "-"], { input: daemonSetYaml("agent", false) }),
      /daemonset.apps\/agent created/,
    );
    assert.match(await kubectl.ok(["apply", "-f", "-"], { input: daemonSetYaml("tolerant", true) }), /created/);
    await onNodes("agent", ["node-1"]);
    const both = await onNodes("tolerant", ["node-1", "node-2"]);
    for (const p of both) assert.equal(containerStatus(p, "c")?.state?.running !== undefined, true);
    assert.match(
      await kubectl.ok(["rollout", "status", "ds/agent", "--timeout=60s"]),
      /daemon set "agent" successfully rolled out/,
    );
    // Untainted, node-2 gets agent's pod too.
    await kubectl.ok(["taint", "nodes", "node-2", "e2e-"]);
    await onNodes("agent", ["node-1", "node-2"]);

    // An update: watched, never more than one node without a ready pod.
    const seen = { maxUnavailable: 0 };
    const pods = new Map<string, Pod>();
    const abort = new AbortController();
    const list = await c.client.list<Pod>(PODS, NS, { labelSelector: "app=tolerant" });
    for (const p of list.items) pods.set(p.metadata.name ?? "", p);
    const watching = (async () => {
      try {
        for await (const ev of c.client.watch<Pod>(
          PODS,
          NS,
          { labelSelector: "app=tolerant", resourceVersion: list.metadata.resourceVersion ?? "0" },
          abort.signal,
        )) {
          if (ev.type === "DELETED") pods.delete(ev.object.metadata.name ?? "");
          else pods.set(ev.object.metadata.name ?? "", ev.object);
          const live = [...pods.values()].filter(isLive);
          const served = new Set(live.filter(isReady).map((p) => p.spec?.nodeName));
          seen.maxUnavailable = Math.max(
            seen.maxUnavailable,
            ["node-1", "node-2"].filter((n) => !served.has(n)).length,
          );
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    await kubectl.ok(["set", "image", "ds/tolerant", `c=${BUSYBOX_V2}`]);
    const status = kubectl.start(["rollout", "status", "ds/tolerant", "--timeout=120s"]);
    const code = await new Promise((r) => status.once("close", r));
    assert.equal(code, 0, status.err());
    assert.match(status.out(), /daemon set "tolerant" successfully rolled out/);
    const updated = await onNodes("tolerant", ["node-1", "node-2"]);
    abort.abort();
    await watching;
    assert.ok(updated.every((p) => p.spec?.containers[0]?.image === BUSYBOX_V2));
    assert.equal(seen.maxUnavailable, 1, `never more than maxUnavailable (1) nodes unserved: ${JSON.stringify(seen)}`);

    assert.match(
      await kubectl.ok(["rollout", "history", "ds/tolerant"]),
      /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/,
    );
    assert.match(await kubectl.ok(["rollout", "undo", "ds/tolerant"]), /daemonset.apps\/tolerant rolled back/);
    assert.match(
      await kubectl.ok(["rollout", "status", "ds/tolerant", "--timeout=120s"]),
      /daemon set "tolerant" successfully rolled out/,
    );
    const back = await onNodes("tolerant", ["node-1", "node-2"]);
    assert.ok(back.every((p) => p.spec?.containers[0]?.image === BUSYBOX_IMAGE));
    assert.match(
      await kubectl.ok(["get", "ds", "tolerant"]),
      /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\ntolerant\s+2\s+2\s+2\s+2\s+2\s+<none>/,
    );
    await kubectl.ok(["delete", "ds", "agent", "tolerant", "--wait=false"]);
  });

  test("a StatefulSet: web-0..2 in order with a claim each, web-1 back with its claim and data, scale down from web-2, a partitioned update", async () => {
    // Every pod event from here on, in order: who was created when, and who was ready then.
    const order: Array<{ pod: string; readyThen: string[] }> = [];
    const state = new Map<string, Pod>();
    const abort = new AbortController();
    const list = await c.client.list<Pod>(PODS, NS, { labelSelector: "app=web" });
    const watching = (async () => {
      try {
        for await (const ev of c.client.watch<Pod>(
          PODS,
          NS,
          { labelSelector: "app=web", resourceVersion: list.metadata.resourceVersion ?? "0" },
          abort.signal,
        )) {
          const name = ev.object.metadata.name ?? "";
          if (ev.type === "ADDED")
            order.push({
              pod: name,
              readyThen: [...state.values()].filter((p) => isLive(p) && isReady(p)).map((p) => p.metadata.name ?? ""),
            });
          if (ev.type === "DELETED") state.delete(name);
          else state.set(name, ev.object);
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    await kubectl.ok(["apply", "-f", "-"], { input: statefulSetYaml() });
    const rolled = await kubectl.ok(["rollout", "status", "sts/web", "--timeout=180s"], { timeoutMs: 190_000 });
    assert.match(rolled, /partitioned roll out complete: 3 new pods have been updated/);
    abort.abort();
    await watching;
    assert.deepEqual(
      order.map((o) => o.pod),
      ["web-0", "web-1", "web-2"],
    );
    assert.deepEqual(order[1]?.readyThen, ["web-0"], "web-1 created once web-0 was Ready");
    assert.deepEqual(order[2]?.readyThen.sort(), ["web-0", "web-1"], "web-2 created once web-1 was Ready");

    const claimUid = async (n: string) =>
      (await c.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS, n)).metadata.uid;
    const uids = new Map<string, string | undefined>();
    for (let i = 0; i < 3; i++) uids.set(`www-web-${i}`, await claimUid(`www-web-${i}`));
    assert.equal(await log("web-1"), "web-1\n");
    // Each pod is <pod>.<serviceName> in the cluster's DNS.
    const ipOf = async (pod: string) => (await c.client.get<Pod>(PODS, NS, pod)).status?.podIP;
    const resolves = (pod: string) =>
      waitFor(
        async () => {
          const ip = await ipOf(pod);
          const got = await resolveA(dnsServer.port, `${pod}.web.default.svc.cluster.local`);
          return ip !== undefined && got.join() === ip;
        },
        { timeoutMs: 20_000, message: `${pod}.web.default.svc.cluster.local resolves to its IP` },
      );
    for (const p of ["web-0", "web-1", "web-2"]) await resolves(p);

    // web-1 deleted: back under its name, with the same claim and what the first web-1 wrote.
    const first = await c.client.get<Pod>(PODS, NS, "web-1");
    await kubectl.ok(["delete", "pod", "web-1", "--wait=false"]);
    await watchUntil(
      c.client,
      PODS,
      NS,
      ([p]) => p !== undefined && p.metadata.uid !== first.metadata.uid && isReady(p),
      { name: "web-1", timeoutMs: 90_000, message: "web-1 back and ready" },
    );
    assert.equal(await claimUid("www-web-1"), uids.get("www-web-1"));
    assert.equal(await log("web-1"), "web-1\nweb-1\n", "the second web-1 sees the first one's line");
    await resolves("web-1");

    // Scale down: web-2 goes, web-0 and web-1 stay; its claim is retained.
    await kubectl.ok(["scale", "sts/web", "--replicas=2"]);
    await watchUntil(c.client, PODS, NS, (ps) => ps.filter((p) => p.metadata.name === "web-2").length === 0, {
      labelSelector: "app=web",
      timeoutMs: 60_000,
      message: "web-2 gone",
    });
    assert.deepEqual((await podsOf("web")).map((p) => p.metadata.name).sort(), ["web-0", "web-1"]);
    assert.equal(await claimUid("www-web-2"), uids.get("www-web-2"));
    await kubectl.ok(["scale", "sts/web", "--replicas=3"]);
    await kubectl.ok(["rollout", "status", "sts/web", "--timeout=120s"]);
    assert.equal(await log("web-2"), "web-2\nweb-2\n", "web-2 back on its retained claim");

    // A partitioned update: only web-2 (ordinal >= 2) changes.
    await kubectl.ok(["patch", "sts", "web", "-p", '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
    await kubectl.ok(["set", "image", "sts/web", `c=${BUSYBOX_V2}`]);
    assert.match(
      await kubectl.ok(["rollout", "status", "sts/web", "--timeout=120s"]),
      /partitioned roll out complete: 1 new pods have been updated/,
    );
    const pods = new Map((await podsOf("web")).map((p) => [p.metadata.name ?? "", p]));
    assert.equal(pods.get("web-2")?.spec?.containers[0]?.image, BUSYBOX_V2);
    assert.equal(pods.get("web-1")?.spec?.containers[0]?.image, BUSYBOX_IMAGE);
    assert.equal(pods.get("web-0")?.spec?.containers[0]?.image, BUSYBOX_IMAGE);
    const sts = await c.client.get<StatefulSet>(STATEFULSETS, NS, "web");
    assert.notEqual(sts.status?.currentRevision, sts.status?.updateRevision);
    assert.equal(sts.status?.updatedReplicas, 1);
    assert.match(await kubectl.ok(["get", "sts", "web"]), /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+/);
    await waitFor(async () => (await log("web-2")).split("\n").length === 4, { timeoutMs: 10_000 });
  });
  test("a StatefulSet on the default class: each claim provisioned by local-path, the data kept when the pod is deleted", async () => {
    await kubectl.ok(["apply", "-f", "-"], { input: statefulSetYaml("db", "data", null) });
    const rolled = await kubectl.run(["rollout", "status", "sts/db", "--timeout=180s"], { timeoutMs: 190_000 });
    if (rolled.code !== 0) {
      const events = await kubectl.run(["get", "events", "-A", "-o", "wide"]);
      const pods = await kubectl.run(["get", "pods,pvc,pv", "-A", "-o", "wide"]);
      assert.fail(`${rolled.stdout}${rolled.stderr}\n${pods.stdout}\n${events.stdout}\n${c.logs()}`);
    }
    assert.match(rolled.stdout, /partitioned roll out complete: 2 new pods have been updated/);
    const claims = new Map<string, PersistentVolumeClaim>();
    for (const n of ["data-db-0", "data-db-1"]) {
      const pvc = await c.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS, n);
      assert.equal(pvc.spec?.storageClassName, "standard");
      assert.equal(pvc.status?.phase, "Bound");
      const pv = await c.client.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, pvc.spec?.volumeName ?? "");
      assert.equal(pv.metadata.annotations?.["pv.kubernetes.io/provisioned-by"], "kubeling.io/local-path");
      claims.set(n, pvc);
    }
    assert.equal(await log("db-1"), "db-1\n");
    const first = await c.client.get<Pod>(PODS, NS, "db-1");
    await kubectl.ok(["delete", "pod", "db-1", "--wait=false"]);
    const [again] = await watchUntil(
      c.client,
      PODS,
      NS,
      ([p]) => p !== undefined && p.metadata.uid !== first.metadata.uid && isReady(p),
      { name: "db-1", timeoutMs: 120_000, message: "db-1 back and ready" },
    );
    const pvc = await c.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS, "data-db-1");
    assert.equal(pvc.metadata.uid, claims.get("data-db-1")?.metadata.uid, "the same claim");
    assert.equal(pvc.spec?.volumeName, claims.get("data-db-1")?.spec?.volumeName, "on the same volume");
    assert.equal(again?.spec?.nodeName, first.spec?.nodeName, "back on the node its local volume is on");
    assert.equal(await log("db-1"), "db-1\ndb-1\n", "what the first db-1 wrote is there");
  });
});
