// The kubectl matrix (issue 12): the same everyday kubectl commands with every versioned kubectl
// installed beside /usr/bin/kubectl (kubectl.1.27 ... kubectl.1.33, found by globbing the
// directory of its realpath; /usr/bin/kubectl itself when there is none), against one real
// kubeling cluster: the API server on real etcd, a kubelet on real Docker (for logs, exec, cp,
// port-forward, attach, debug's ephemeral containers, wait on a pod), and the controller-manager's
// garbage collector, deployment and replicaset controllers (cascading deletes; no scheduler, so
// the Deployments' pods stay Pending and cost nothing). The pods the streaming commands use are
// made once, in namespace `shared`; each version gets its own namespace, HOME and --cache-dir
// (discovery is cached per version).
//
// CASES is the one list of commands: add a case there. Cases of a version run in order and may
// use what earlier ones made (the comment on each case says so). Versions run two at a time.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEPLOYMENTS, NAMESPACES, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Deployment, Pod, Service } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import { kubectlFor, type StartedKubectl } from "../harness/kubectl.js";
import { cleanupCluster, docker, startKubelet, type TestKubelet } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const DISPATCHER = "/usr/bin/kubectl";

/** The versioned kubectls beside the dispatcher's realpath, oldest first; the dispatcher alone without any. */
function kubectls(): { minor: number; name: string; bin: string }[] {
  const dir = dirname(realpathSync(DISPATCHER));
  const found = readdirSync(dir)
    .map((f) => /^kubectl\.1\.(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ minor: Number(m[1]), name: `1.${m[1]}`, bin: join(dir, m[0]) }))
    .sort((a, b) => a.minor - b.minor);
  if (found.length > 0) return found;
  return [{ minor: Number.POSITIVE_INFINITY, name: "dispatcher", bin: DISPATCHER }];
}

const SHARED = "shared";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
type Started = StartedKubectl;

/** What a case gets: one kubectl version, its namespace (-n is passed first to every command) and a scratch dir. */
interface Ctx {
  minor: number;
  version: string;
  ns: string;
  dir: string;
  api: TestApiServer;
  run(args: string[], o?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run>;
  /** run, asserting exit code 0; stdout. */
  ok(args: string[], o?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<string>;
  /** run, asserting a non-zero exit code. */
  fails(args: string[], o?: { input?: string }): Promise<Run>;
  /** A long-running kubectl (get -w, logs -f, port-forward, proxy); killed when the version ends. */
  start(args: string[]): Started;
  /** The bare command line (binary, kubeconfig, cache dir) for script(1). */
  commandLine(): string;
}

interface Case {
  name: string;
  /** The versions the case runs with (default: all); a reason must be given beside it. */
  versions?: (minor: number) => boolean;
  run(c: Ctx): Promise<void>;
}

const lines = (s: string) => s.trim().split("\n");
const cells = (l: string) => l.trim().split(/\s{2,}/);

/** waitOut waits for a started kubectl to print something matching re; the match. */
async function waitOut(p: Started, re: RegExp, what: string, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const all = () => p.out() + p.err();
  return waitFor(() => re.exec(all()) ?? undefined, { timeoutMs, message: `${what}; output so far:\n${all()}` });
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: { connection: "close" } });
  return { status: res.status, body: await res.text() };
}

const configMap = (name: string, data: Record<string, string>) =>
  `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
${Object.entries(data)
  .map(([k, v]) => `  ${k}: "${v}"`)
  .join("\n")}
`;

const deployment = (name: string, image: string, replicas = 0) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: main
        image: ${image}
        command: ["sleep", "3600"]
`;

const jsonpath = async (c: Ctx, what: string[], path: string) => c.ok(["get", ...what, "-o", `jsonpath=${path}`]);

/** The ReplicaSets of a Deployment made by `create deployment NAME` (labels app=NAME), once one exists. */
const replicaSetOf = (c: Ctx, name: string) =>
  waitFor(async () => (await c.ok(["get", "rs", "-l", `app=${name}`, "-o", "name"])).trim() || undefined, {
    timeoutMs: 20_000,
    message: `a ReplicaSet of deployment ${name}`,
  });

const CASES: Case[] = [
  {
    name: "version",
    async run(c) {
      const v = JSON.parse(await c.ok(["version", "-o", "json"]));
      assert.equal(v.serverVersion.gitVersion, "v1.33.0+kubeling.0.1.0");
      assert.equal(v.serverVersion.major, "1");
      assert.equal(v.serverVersion.minor, "33");
      if (Number.isFinite(c.minor)) assert.equal(v.clientVersion.minor, String(c.minor));
    },
  },
  {
    name: "api-versions, api-resources",
    async run(c) {
      const gv = lines(await c.ok(["api-versions"]));
      for (const want of ["v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "policy/v1"])
        assert.ok(gv.includes(want), `api-versions lists ${want}: ${gv.join(" ")}`);
      const ar = await c.ok(["api-resources"]);
      assert.match(ar, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/m);
      assert.match(ar, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(ar, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
      const names = lines(await c.ok(["api-resources", "-o", "name", "--namespaced=true"]));
      assert.ok(names.includes("configmaps") && names.includes("deployments.apps"), names.join(" "));
      assert.ok(!names.includes("namespaces"));
    },
  },
  {
    name: "cluster-info",
    async run(c) {
      const out = await c.ok(["cluster-info"]);
      assert.match(out, /Kubernetes control plane\S* is running at \S*https:\/\/127\.0\.0\.1:\d+/);
    },
  },
  {
    // Every later case works in this namespace.
    name: "create namespace",
    async run(c) {
      assert.equal(await c.ok(["create", "namespace", c.ns]), `namespace/${c.ns} created\n`);
      assert.equal(await jsonpath(c, ["ns", c.ns], "{.status.phase}"), "Active");
    },
  },
  {
    name: "create deployment",
    async run(c) {
      const out = await c.ok([
        "create",
        "deployment",
        "web",
        `--image=${BUSYBOX_IMAGE}`,
        "--replicas=0",
        "--",
        "sleep",
        "1",
      ]);
      assert.equal(out, "deployment.apps/web created\n");
      const d = JSON.parse(await c.ok(["get", "deploy", "web", "-o", "json"])) as Deployment;
      assert.equal(d.spec?.replicas, 0);
      assert.deepEqual(d.spec?.selector.matchLabels, { app: "web" });
      assert.equal(d.spec?.template.spec?.containers[0]?.name, "busybox");
      assert.deepEqual(d.spec?.template.spec?.containers[0]?.command, ["sleep", "1"]);
    },
  },
  {
    name: "create configmap, secret generic/tls/docker-registry",
    async run(c) {
      writeFileSync(join(c.dir, "f.txt"), "from-a-file\n");
      assert.equal(
        await c.ok([
          "create",
          "configmap",
          "cm1",
          "--from-literal=a=1",
          "--from-literal=b=2",
          `--from-file=${join(c.dir, "f.txt")}`,
        ]),
        "configmap/cm1 created\n",
      );
      assert.equal(await jsonpath(c, ["cm", "cm1"], "{.data.a},{.data.b},{.data.f\\.txt}"), "1,2,from-a-file\n");
      assert.equal(
        await c.ok(["create", "secret", "generic", "s1", "--from-literal=pw=s3cret"]),
        "secret/s1 created\n",
      );
      assert.equal(await jsonpath(c, ["secret", "s1"], "{.type} {.data.pw}"), `Opaque ${btoa("s3cret")}`);
      const { caCert, caKey } = c.api.pki;
      assert.equal(
        await c.ok(["create", "secret", "tls", "tls1", `--cert=${caCert}`, `--key=${caKey}`]),
        "secret/tls1 created\n",
      );
      assert.equal(await jsonpath(c, ["secret", "tls1"], "{.type}"), "kubernetes.io/tls");
      assert.equal(
        Buffer.from(await jsonpath(c, ["secret", "tls1"], "{.data.tls\\.crt}"), "base64").toString(),
        readFileSync(caCert, "utf8"),
      );
      await c.ok([
        "create",
        "secret",
        "docker-registry",
        "reg1",
        "--docker-server=r.example",
        "--docker-username=u",
        "--docker-password=p",
      ]);
      assert.equal(await jsonpath(c, ["secret", "reg1"], "{.type}"), "kubernetes.io/dockerconfigjson");
      const cfg = JSON.parse(
        Buffer.from(await jsonpath(c, ["secret", "reg1"], "{.data.\\.dockerconfigjson}"), "base64").toString(),
      );
      assert.equal(cfg.auths["r.example"].username, "u");
    },
  },
  {
    name: "create service clusterip/nodeport",
    async run(c) {
      assert.equal(await c.ok(["create", "service", "clusterip", "svc1", "--tcp=80:8080"]), "service/svc1 created\n");
      const s1 = JSON.parse(await c.ok(["get", "svc", "svc1", "-o", "json"])) as Service;
      assert.equal(s1.spec?.type, "ClusterIP");
      assert.match(s1.spec?.clusterIP ?? "", /^10\.9[6-9]\.|^10\.1[01]\d\./);
      assert.deepEqual(s1.spec?.selector, { app: "svc1" });
      assert.equal(
        await c.ok(["create", "service", "nodeport", "svc2", "--tcp=80:8080", "--node-port=0"]),
        "service/svc2 created\n",
      );
      const np = Number(await jsonpath(c, ["svc", "svc2"], "{.spec.ports[0].nodePort}"));
      assert.ok(np >= 30000 && np <= 32767, `nodePort ${np}`);
      const row = cells(lines(await c.ok(["get", "svc", "svc2"]))[1] ?? "");
      assert.equal(row[1], "NodePort");
      assert.equal(row[4], `80:${np}/TCP`);
    },
  },
  {
    name: "create job, cronjob, job --from=cronjob",
    async run(c) {
      assert.equal(
        await c.ok(["create", "job", "j1", `--image=${BUSYBOX_IMAGE}`, "--", "echo", "hi"]),
        "job.batch/j1 created\n",
      );
      assert.equal(await jsonpath(c, ["job", "j1"], "{.spec.template.spec.restartPolicy}"), "Never");
      assert.equal(
        await c.ok([
          "create",
          "cronjob",
          "cj1",
          `--image=${BUSYBOX_IMAGE}`,
          "--schedule=*/5 * * * *",
          "--",
          "echo",
          "hi",
        ]),
        "cronjob.batch/cj1 created\n",
      );
      assert.equal(await jsonpath(c, ["cronjob", "cj1"], "{.spec.schedule}"), "*/5 * * * *");
      assert.equal(await c.ok(["create", "job", "j2", "--from=cronjob/cj1"]), "job.batch/j2 created\n");
      assert.equal(
        await jsonpath(c, ["job", "j2"], "{.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}"),
        "manual",
      );
      assert.equal(await jsonpath(c, ["job", "j2"], "{.metadata.ownerReferences[0].name}"), "cj1");
    },
  },
  {
    // The rolebinding gives alice get/list pods here; `auth can-i` below asks about her.
    name: "create role, rolebinding, clusterrole, clusterrolebinding",
    async run(c) {
      assert.equal(
        await c.ok(["create", "role", "r1", "--verb=get,list", "--resource=pods"]),
        "role.rbac.authorization.k8s.io/r1 created\n",
      );
      assert.equal(
        await c.ok(["create", "rolebinding", "rb1", "--role=r1", "--user=alice"]),
        "rolebinding.rbac.authorization.k8s.io/rb1 created\n",
      );
      const cr = `matrix-${c.ns}`;
      await c.ok(["create", "clusterrole", cr, "--verb=get", "--resource=nodes"]);
      await c.ok(["create", "clusterrolebinding", cr, `--clusterrole=${cr}`, "--user=bob"]);
      assert.equal(await jsonpath(c, ["clusterrolebinding", cr], "{.roleRef.name} {.subjects[0].name}"), `${cr} bob`);
    },
  },
  {
    // persistentvolumeclaims only: no resourcequota controller runs, and a quota without status
    // refuses what it counts (upstream's "status unknown for quota").
    name: "create quota, poddisruptionbudget",
    async run(c) {
      assert.equal(
        await c.ok(["create", "quota", "q1", "--hard=persistentvolumeclaims=4"]),
        "resourcequota/q1 created\n",
      );
      assert.equal(await jsonpath(c, ["quota", "q1"], "{.spec.hard.persistentvolumeclaims}"), "4");
      assert.equal(
        await c.ok(["create", "poddisruptionbudget", "pdb1", "--selector=app=web", "--min-available=1"]),
        "poddisruptionbudget.policy/pdb1 created\n",
      );
      assert.equal(await jsonpath(c, ["pdb", "pdb1"], "{.spec.minAvailable}"), "1");
    },
  },
  {
    // Cluster-scoped, so named per version; no --global-default, which every later pod would get.
    name: "create priorityclass, get pc",
    async run(c) {
      const pc = `matrix-${c.ns}`;
      assert.equal(
        await c.ok(["create", "priorityclass", pc, "--value=1000", "--description=x"]),
        `priorityclass.scheduling.k8s.io/${pc} created\n`,
      );
      assert.equal(
        await jsonpath(c, ["pc", pc], "{.value} {.description} {.preemptionPolicy}"),
        "1000 x PreemptLowerPriority",
      );
      const rows = lines(await c.ok(["get", "pc"])).map(cells);
      assert.deepEqual(rows[0], ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]);
      const row = rows.find((r) => r[0] === pc);
      assert.deepEqual([row?.[1], row?.[2], row?.[4]], ["1000", "false", "PreemptLowerPriority"]);
    },
  },
  {
    name: "create serviceaccount, token",
    async run(c) {
      assert.equal(await c.ok(["create", "serviceaccount", "sa1"]), "serviceaccount/sa1 created\n");
      const token = (await c.ok(["create", "token", "sa1", "--duration=10m"])).trim();
      const parts = token.split(".");
      assert.equal(parts.length, 3, token);
      const claims = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString());
      assert.equal(claims.sub, `system:serviceaccount:${c.ns}:sa1`);
      assert.ok(claims.exp - claims.iat <= 600 && claims.exp - claims.iat > 500, `exp ${claims.exp} iat ${claims.iat}`);
    },
  },
  {
    name: "run (and --dry-run=server)",
    async run(c) {
      assert.equal(
        await c.ok([
          "run",
          "p1",
          `--image=${BUSYBOX_IMAGE}`,
          "--restart=Never",
          "--labels=app=p1,tier=x",
          "--",
          "sleep",
          "3600",
        ]),
        "pod/p1 created\n",
      );
      const p = JSON.parse(await c.ok(["get", "pod", "p1", "-o", "json"])) as Pod;
      assert.deepEqual(p.metadata.labels, { app: "p1", tier: "x" });
      assert.deepEqual(p.spec?.containers[0]?.args, ["sleep", "3600"]);
      assert.equal(p.spec?.restartPolicy, "Never");
      const dry = await c.ok([
        "run",
        "p2",
        `--image=${BUSYBOX_IMAGE}`,
        "--dry-run=server",
        "-o",
        "jsonpath={.metadata.name}",
      ]);
      assert.equal(dry, "p2");
      await c.fails(["get", "pod", "p2"]);
    },
  },
  {
    name: "apply (client-side): created, configured, unchanged",
    async run(c) {
      assert.equal(
        await c.ok(["apply", "-f", "-"], { input: configMap("ap", { x: "1", y: "1" }) }),
        "configmap/ap created\n",
      );
      assert.equal(
        await c.ok(["apply", "-f", "-"], { input: configMap("ap", { x: "2" }) }),
        "configmap/ap configured\n",
      );
      assert.equal(await jsonpath(c, ["cm", "ap"], "{.data}"), '{"x":"2"}');
      assert.equal(
        await c.ok(["apply", "-f", "-"], { input: configMap("ap", { x: "2" }) }),
        "configmap/ap unchanged\n",
      );
      // A strategic merge patch of a Deployment (containers merge by name).
      await c.ok(["apply", "-f", "-"], { input: deployment("apd", BUSYBOX_IMAGE) });
      assert.equal(
        await c.ok(["apply", "-f", "-"], { input: deployment("apd", "kubeling.local/busybox:v2") }),
        "deployment.apps/apd configured\n",
      );
      assert.equal(
        await jsonpath(c, ["deploy", "apd"], "{.spec.template.spec.containers[*].image}"),
        "kubeling.local/busybox:v2",
      );
    },
  },
  {
    // explain's default output reads OpenAPI v3, --output=plaintext-openapiv2 reads /openapi/v2.
    name: "explain (v3 and --output=plaintext-openapiv2), --recursive",
    async run(c) {
      for (const output of ["plaintext", "plaintext-openapiv2"]) {
        const pods = await c.ok(["explain", "pods", `--output=${output}`]);
        assert.match(pods, /^KIND:\s+Pod$/m, output);
        assert.match(pods, /^\s+spec\t<Object>$/m, output);
        const spec = await c.ok(["explain", "deployment.spec", "--recursive", `--output=${output}`]);
        for (const field of [
          /^\s+selector\t<Object>/m,
          /^\s+containers\t<\[\]Object>/m,
          /^\s+containerPort\t<integer>/m,
        ])
          assert.match(spec, field, `${output}:\n${spec}`);
      }
      const containers = await c.ok(["explain", "pods.spec.containers", "--output=plaintext-openapiv2"]);
      assert.match(containers, /^\s+name\t<string> -required-$/m);
    },
  },
  {
    // Client-side apply takes its strategic-merge-patch metadata from /openapi/v2 (every version
    // reads it to patch an existing object): containers merged by name keep one added meanwhile,
    // the strategy's retainKeys drops rollingUpdate (the server refuses it beside Recreate). A
    // v1 List is validated by kubectl itself against v2's definitions.
    name: "apply (client-side) with OpenAPI v2's patch metadata; a List's unknown field refused client-side",
    async run(c) {
      await c.ok(["apply", "-f", "-"], { input: deployment("apv2", BUSYBOX_IMAGE) });
      const side = '[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"side","image":"x"}}]';
      await c.ok(["patch", "deployment", "apv2", "--type=json", "-p", side]);
      const recreate = deployment("apv2", "kubeling.local/busybox:v2").replace(
        "  replicas: 0\n",
        "  replicas: 0\n  strategy: {type: Recreate}\n",
      );
      assert.equal(await c.ok(["apply", "-f", "-"], { input: recreate }), "deployment.apps/apv2 configured\n");
      assert.equal(
        await jsonpath(c, ["deploy", "apv2"], "{range .spec.template.spec.containers[*]}{.name}={.image} {end}"),
        "main=kubeling.local/busybox:v2 side=x ",
      );
      assert.equal(await jsonpath(c, ["deploy", "apv2"], "{.spec.strategy}"), '{"type":"Recreate"}');
      const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed}
  bogus: 2
`;
      const r = await c.fails(["create", "-f", "-"], { input: list });
      assert.match(
        r.stderr,
        /error validating data: ValidationError\(ConfigMap\): unknown field "bogus" in io\.k8s\.api\.core\.v1\.ConfigMap/,
      );
      await c.fails(["get", "configmap", "listed"]);
    },
  },
  {
    name: "apply --server-side: conflicts, --force-conflicts",
    async run(c) {
      const ssa = ["apply", "--server-side", "-f", "-"];
      assert.equal(
        await c.ok(ssa, { input: deployment("ssa", BUSYBOX_IMAGE) }),
        "deployment.apps/ssa serverside-applied\n",
      );
      const other = await c.fails([...ssa, "--field-manager=other"], {
        input: deployment("ssa", "kubeling.local/busybox:v2"),
      });
      assert.match(other.stderr, /Apply failed with 1 conflict: conflict with "kubectl"/);
      assert.match(other.stderr, /\.spec\.template\.spec\.containers\[name="main"\]\.image/);
      await c.ok([...ssa, "--field-manager=other", "--force-conflicts"], {
        input: deployment("ssa", "kubeling.local/busybox:v2"),
      });
      assert.equal(
        await jsonpath(c, ["deploy", "ssa"], "{.spec.template.spec.containers[0].image}"),
        "kubeling.local/busybox:v2",
      );
      const managers = await jsonpath(c, ["deploy", "ssa"], "{.metadata.managedFields[*].manager}");
      assert.match(managers, /\bother\b/);
    },
  },
  {
    // Uses deployment ssa from the case before.
    name: "diff",
    async run(c) {
      const same = await c.run(["diff", "-f", "-"], { input: deployment("ssa", "kubeling.local/busybox:v2") });
      assert.equal(same.code, 0, same.stderr);
      assert.equal(same.stdout, "");
      const changed = await c.run(["diff", "-f", "-"], { input: deployment("ssa", "kubeling.local/busybox:v2", 2) });
      assert.equal(changed.code, 1, changed.stderr);
      assert.match(changed.stdout, /^-\s+replicas: 0$/m);
      assert.match(changed.stdout, /^\+\s+replicas: 2$/m);
      assert.doesNotMatch(changed.stdout, /^[-+]\s+image:/m);
      assert.equal(await jsonpath(c, ["deploy", "ssa"], "{.spec.replicas}"), "0", "diff changes nothing");
    },
  },
  {
    name: "edit (EDITOR), replace --force",
    async run(c) {
      await c.ok(["create", "configmap", "ed", "--from-literal=k=before"]);
      const editor = join(c.dir, "editor.sh");
      writeFileSync(editor, `#!/bin/sh\nsed -i 's/before/after/' "$1"\n`, { mode: 0o755 });
      const out = await c.ok(["edit", "configmap", "ed"], { env: { EDITOR: editor, KUBE_EDITOR: "" } });
      assert.equal(out, "configmap/ed edited\n");
      assert.equal(await jsonpath(c, ["cm", "ed"], "{.data.k}"), "after");
      const before = JSON.parse(await c.ok(["get", "cm", "ed", "-o", "json"]));
      before.data.k = "replaced";
      assert.equal(
        await c.ok(["replace", "--force", "-f", "-"], { input: JSON.stringify(before) }),
        'configmap "ed" deleted\nconfigmap/ed replaced\n',
      );
      const now = JSON.parse(await c.ok(["get", "cm", "ed", "-o", "json"]));
      assert.equal(now.data.k, "replaced");
      assert.notEqual(now.metadata.uid, before.metadata.uid, "replace --force deletes and creates");
    },
  },
  {
    // Uses deployment web and configmap cm1.
    name: "patch: strategic, merge, json",
    async run(c) {
      const smp =
        '{"spec":{"template":{"spec":{"containers":[{"name":"busybox","image":"kubeling.local/busybox:v3"}]}}}}';
      assert.equal(await c.ok(["patch", "deploy", "web", "-p", smp]), "deployment.apps/web patched\n");
      assert.equal(
        await jsonpath(
          c,
          ["deploy", "web"],
          "{.spec.template.spec.containers[*].name}={.spec.template.spec.containers[*].image}",
        ),
        "busybox=kubeling.local/busybox:v3",
      );
      assert.equal(
        await c.ok(["patch", "cm", "cm1", "--type=merge", "-p", '{"data":{"c":"3","b":null}}']),
        "configmap/cm1 patched\n",
      );
      assert.equal(
        await c.ok(["patch", "cm", "cm1", "--type=json", "-p", '[{"op":"replace","path":"/data/a","value":"9"}]']),
        "configmap/cm1 patched\n",
      );
      assert.equal(await jsonpath(c, ["cm", "cm1"], "{.data.a},{.data.b},{.data.c}"), "9,,3");
      assert.equal(
        await c.ok(["patch", "cm", "cm1", "--type=merge", "-p", '{"data":{"c":"3"}}']),
        "configmap/cm1 patched (no change)\n",
      );
      const bad = await c.fails([
        "patch",
        "cm",
        "cm1",
        "--type=json",
        "-p",
        '[{"op":"test","path":"/data/a","value":"0"}]',
      ]);
      assert.match(bad.stderr, /test/i);
    },
  },
  {
    name: "label, annotate",
    async run(c) {
      assert.equal(await c.ok(["label", "cm", "cm1", "tier=web"]), "configmap/cm1 labeled\n");
      const clash = await c.fails(["label", "cm", "cm1", "tier=db"]);
      assert.match(clash.stderr, /already has a value \(web\), and --overwrite is false/);
      await c.ok(["label", "cm", "cm1", "tier=db", "--overwrite"]);
      await c.ok(["label", "cm", "cm1", "gone=yes"]);
      assert.equal(await c.ok(["label", "cm", "cm1", "gone-"]), "configmap/cm1 unlabeled\n");
      assert.equal(await jsonpath(c, ["cm", "cm1"], "{.metadata.labels}"), '{"tier":"db"}');
      // kubectl 1.27 itself prints "annotate" (its own message; the server has no part in it).
      const annotated = c.minor === 27 ? "annotate" : "annotated";
      assert.equal(await c.ok(["annotate", "cm", "cm1", "note=hello world"]), `configmap/cm1 ${annotated}\n`);
      assert.equal(await jsonpath(c, ["cm", "cm1"], "{.metadata.annotations.note}"), "hello world");
    },
  },
  {
    name: "get -o wide|yaml|json|name|jsonpath|custom-columns|go-template",
    async run(c) {
      const wide = lines(await c.ok(["get", "pods", "-n", SHARED, "-o", "wide"]));
      assert.deepEqual(cells(wide[0] ?? ""), [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
      ]);
      const web = cells(wide.find((l) => l.startsWith("web ")) ?? "");
      assert.deepEqual([web[1], web[2], web[6]], ["2/2", "Running", "node-1"]);
      const yaml = await c.ok(["get", "cm", "cm1", "-o", "yaml"]);
      assert.match(yaml, /^apiVersion: v1\n/);
      assert.match(yaml, /^kind: ConfigMap$/m);
      assert.match(yaml, /^ {2}name: cm1$/m);
      const list = JSON.parse(await c.ok(["get", "cm", "-o", "json"]));
      assert.equal(list.kind, "List");
      assert.ok(list.items.some((i: { metadata: { name: string } }) => i.metadata.name === "cm1"));
      const names = lines(await c.ok(["get", "cm,secret", "-o", "name"]));
      assert.ok(names.includes("configmap/cm1") && names.includes("secret/s1"), names.join(" "));
      const cc = lines(
        await c.ok(["get", "cm", "cm1", "ap", "-o", "custom-columns=NAME:.metadata.name,A:.data.a,X:.data.x"]),
      );
      assert.deepEqual(cc.map(cells), [
        ["NAME", "A", "X"],
        ["cm1", "9", "<none>"],
        ["ap", "<none>", "2"],
      ]);
      const gt = await c.ok(["get", "cm", "-o", "go-template={{range .items}}{{.metadata.name}} {{end}}"]);
      assert.match(gt, /\bcm1 \b/);
      assert.equal(await c.ok(["get", "cm", "-o", 'jsonpath={.items[?(@.metadata.name=="cm1")].data.c}']), "3");
      // Upstream 1.33 warns on every request for v1 Endpoints; kubectl prints it on stderr.
      const ep = await c.run(["get", "endpoints"]);
      assert.equal(ep.code, 0, ep.stderr);
      assert.match(
        ep.stderr,
        /^Warning: v1 Endpoints is deprecated in v1\.33\+; use discovery\.k8s\.io\/v1 EndpointSlice$/m,
      );
      const table = lines(await c.ok(["get", "deploy"]));
      assert.deepEqual(cells(table[0] ?? ""), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    },
  },
  {
    name: "get --sort-by, --show-labels",
    async run(c) {
      const byName = lines(await c.ok(["get", "cm", "--sort-by=.metadata.name", "-o", "name"]));
      assert.deepEqual(byName, [...byName].sort());
      assert.ok(byName.length >= 3);
      const byTime = lines(await c.ok(["get", "cm", "--sort-by=.metadata.creationTimestamp", "--no-headers"])).map(
        (l) => cells(l)[0],
      );
      assert.ok(byTime.indexOf("cm1") < byTime.indexOf("ap"), byTime.join(" "));
      const shown = lines(await c.ok(["get", "cm", "cm1", "--show-labels"]));
      assert.deepEqual(cells(shown[0] ?? ""), ["NAME", "DATA", "AGE", "LABELS"]);
      assert.equal(cells(shown[1] ?? "")[3], "tier=db");
      const sel = lines(await c.ok(["get", "pods", "-l", "app=p1", "-o", "name"]));
      assert.deepEqual(sel, ["pod/p1"]);
    },
  },
  {
    name: "get -w",
    async run(c) {
      const w = c.start(["get", "cm", "-w"]);
      await waitOut(w, /^cm1\s+\d+\s+\S+$/m, "the watch's first list");
      await c.ok(["create", "configmap", "watched", "--from-literal=a=b"]);
      await waitOut(w, /^watched\s+1\s+\S+$/m, "the created ConfigMap on the watch");
      w.kill();
      const ev = c.start(["get", "cm", "watched", "-w", "--output-watch-events", "--no-headers"]);
      await waitOut(ev, /^ADDED\s+watched\s+/m, "an ADDED event");
      await c.ok(["label", "cm", "watched", "x=y"]);
      await waitOut(ev, /^MODIFIED\s+watched\s+/m, "a MODIFIED event");
      ev.kill();
    },
  },
  {
    name: "describe",
    async run(c) {
      const pod = await c.ok(["describe", "pod", "web", "-n", SHARED]);
      assert.match(pod, /^Name:\s+web$/m);
      assert.match(pod, /^Namespace:\s+shared$/m);
      assert.match(pod, /^Node:\s+node-1\/127\.0\.0\.1$/m);
      assert.match(pod, /^Status:\s+Running$/m);
      assert.match(pod, /^Events:\s*\n\s+Type\s+Reason\s+Age\s+From\s+Message$/m);
      assert.match(pod, /Normal\s+Started\s+.*\s+kubelet\s+Started container web/);
      const d = await c.ok(["describe", "deploy", "web"]);
      assert.match(d, /^Replicas:\s+0 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
      assert.match(d, /^Selector:\s+app=web$/m);
      const cm = await c.ok(["describe", "cm", "cm1"]);
      assert.match(cm, /^Labels:\s+tier=db$/m);
      assert.match(cm, /^c:\n----\n3$/m);
      const ns = await c.ok(["describe", "ns", c.ns]);
      assert.match(ns, /^Status:\s+Active$/m);
      assert.match(ns, /^Resource Quotas\n/m);
      const svc = await c.ok(["describe", "svc", "svc2"]);
      assert.match(svc, /^Type:\s+NodePort$/m);
    },
  },
  {
    name: "logs: -c, -l, --since, --tail, -f, --previous",
    async run(c) {
      const all = await c.ok(["logs", "web", "-c", "web", "-n", SHARED]);
      assert.match(all, /^line-0\nline-1\n/);
      assert.match(await c.ok(["logs", "web", "-c", "side", "-n", SHARED]), /^side-says-hi\n$/);
      const byLabel = await c.ok(["logs", "-l", "app=web", "-c", "web", "--tail=2", "-n", SHARED]);
      assert.match(byLabel, /^line-\d+\nline-\d+\n$/);
      assert.match(await c.ok(["logs", "web", "-c", "web", "--since=1h", "-n", SHARED]), /^line-0\n/);
      const f = c.start(["logs", "-f", "web", "-c", "web", "--tail=1", "-n", SHARED]);
      const first = Number((await waitOut(f, /line-(\d+)/, "a followed line"))[1]);
      await waitOut(f, new RegExp(`line-${first + 2}\\n`), "two more lines on the same stream");
      f.kill();
      assert.match(await c.ok(["logs", "crashy", "--previous", "-n", SHARED]), /^run-[0-9a-f-]+\n$/);
    },
  },
  {
    name: "exec, exec -i, exec -it",
    async run(c) {
      const r = await c.run([
        "exec",
        "web",
        "-c",
        "side",
        "-n",
        SHARED,
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
      ]);
      assert.equal(r.stdout, "out\n");
      assert.equal(r.stderr, "err\ncommand terminated with exit code 3\n");
      assert.equal(r.code, 3);
      assert.equal(
        await c.ok(["exec", "-i", "web", "-c", "side", "-n", SHARED, "--", "cat"], { input: "from-stdin\n" }),
        "from-stdin\n",
      );
      const tty = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn("script", [
          "-qec",
          `${c.commandLine()} exec -it web -c side -n ${SHARED} -- sh -c 'tty; exit 4'`,
          "/dev/null",
        ]);
        let out = "";
        p.stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        p.once("close", (code) => resolve({ code, out }));
      });
      assert.match(tty.out, /\/dev\/pts\/\d+/);
      assert.equal(tty.code, 4, tty.out);
    },
  },
  {
    // Pods of the version's own namespace: cat with stdin and stdinOnce (kubectl closing stdin
    // ends it), and a shell with stdin and a TTY.
    name: "attach -i (stdinOnce), attach -it",
    async run(c) {
      const pod = (name: string, container: NonNullable<Pod["spec"]>["containers"][number]): Pod => ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: c.ns },
        spec: {
          nodeName: "node-1",
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 1,
          containers: [{ image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", ...container }],
        },
      });
      await c.api.client.create(
        PODS,
        c.ns,
        pod("attach-cat", { name: "cat", command: ["cat"], stdin: true, stdinOnce: true }),
      );
      await c.api.client.create(PODS, c.ns, pod("attach-sh", { name: "sh", command: ["sh"], stdin: true, tty: true }));
      await c.ok(["wait", "--for=condition=Ready", "pod/attach-cat", "pod/attach-sh", "--timeout=30s"]);
      const out = await c.ok(["attach", "-i", "attach-cat", "-c", "cat"], { input: "from-attach\n" });
      assert.match(out, /from-attach\n/);
      await c.ok(["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/attach-cat", "--timeout=30s"]);
      // script(1) gives kubectl a terminal; what is typed reaches the shell (typed again until
      // the session is up), its answer comes back.
      const p = spawn("script", ["-qfec", `${c.commandLine()} attach -it attach-sh -c sh`, "/dev/null"]);
      let tty = "";
      p.stdout.on("data", (d: Buffer) => {
        tty += d.toString();
      });
      const type = () => p.stdin.write("echo attached-$((6*7))\r");
      const timer = setInterval(type, 1000);
      try {
        type();
        await waitFor(() => /attached-42/.test(tty), { timeoutMs: 20_000, message: `the shell's answer: ${tty}` });
      } finally {
        clearInterval(timer);
        p.kill("SIGKILL");
      }
    },
  },
  {
    // An ephemeral container in shared/web, in side's PID namespace: its ps shows side's sleep.
    name: "debug --target, then logs -c",
    async run(c) {
      const name = `debugger-${c.version.replaceAll(".", "-")}`;
      await c.ok([
        "debug",
        "web",
        "-n",
        SHARED,
        `--image=${BUSYBOX_IMAGE}`,
        "--image-pull-policy=IfNotPresent",
        "--target=side",
        "-c",
        name,
        "--",
        "sh",
        "-c",
        "ps -o pid,args",
      ]);
      await waitFor(
        async () =>
          (await jsonpath(
            c,
            ["pod", "web", "-n", SHARED],
            `{.status.ephemeralContainerStatuses[?(@.name=="${name}")].state.terminated.reason}`,
          )) === "Completed",
        { timeoutMs: 30_000, message: `${name} ran to completion` },
      );
      assert.match(await c.ok(["logs", "web", "-n", SHARED, "-c", name]), /\d+ +sleep 3600/);
    },
  },
  {
    name: "cp both ways",
    async run(c) {
      const body = `cp-${c.version}-${randomUUID()}\n`;
      writeFileSync(join(c.dir, "in.txt"), body);
      const remote = `/tmp/cp-${c.ns}.txt`;
      await c.ok(["cp", join(c.dir, "in.txt"), `${SHARED}/web:${remote}`, "-c", "side"]);
      assert.equal(await c.ok(["exec", "web", "-c", "side", "-n", SHARED, "--", "cat", remote]), body);
      await c.ok(["cp", `${SHARED}/web:${remote}`, join(c.dir, "out.txt"), "-c", "side"]);
      assert.equal(readFileSync(join(c.dir, "out.txt"), "utf8"), body);
    },
  },
  {
    name: "port-forward pod/, svc/, deploy/",
    async run(c) {
      for (const [target, port] of [
        ["pod/web", "8080"],
        ["svc/web", "80"],
        ["deploy/web", "8080"],
      ] as const) {
        const pf = c.start(["port-forward", "-n", SHARED, target, `:${port}`]);
        const local = Number(
          (await waitOut(pf, /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/, `port-forward ${target}`))[1],
        );
        for (let i = 0; i < 2; i++)
          assert.deepEqual(await httpGet(`http://127.0.0.1:${local}/index.html`), { status: 200, body: "hello-pf\n" });
        pf.kill();
      }
    },
  },
  {
    name: "wait --for=condition, --for=jsonpath, --for=delete",
    async run(c) {
      assert.equal(
        await c.ok(["wait", "--for=condition=Ready", "pod/web", "-n", SHARED, "--timeout=30s"]),
        "pod/web condition met\n",
      );
      await c.ok(["create", "configmap", "wj", "--from-literal=k=v"]);
      const jp = c.start(["wait", "--for=jsonpath={.data.k}=w", "cm/wj", "--timeout=30s"]);
      await c.ok(["patch", "cm", "wj", "--type=merge", "-p", '{"data":{"k":"w"}}']);
      await waitOut(jp, /^configmap\/wj condition met$/m, "wait --for=jsonpath");
      // A finalizer holds the ConfigMap until the waiter watches; then it goes.
      await c.ok(["apply", "-f", "-"], {
        input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wd\n  finalizers: [example.com/hold]\n",
      });
      await c.ok(["delete", "cm", "wd", "--wait=false"]);
      // -v=6 logs each request: the finalizer goes only once the waiter watches (a ConfigMap
      // already gone when it looks counts as deleted at once, with nothing printed).
      const del = c.start(["wait", "--for=delete", "cm/wd", "--timeout=30s", "-v=6"]);
      // (kubectl <= 1.31 logs `GET <url> 200 OK`, later ones `verb="GET" url="<url>"`.)
      await waitOut(del, /https:\/\/\S+\/configmaps\?\S*watch=true/, "the waiter's watch");
      await c.ok(["patch", "cm", "wd", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
      await waitOut(del, /^configmap\/wd condition met$/m, "wait --for=delete");
      const late = await c.fails(["wait", "--for=condition=Ready", `pod/p1`, "--timeout=1s"]);
      assert.match(late.stderr, /timed out waiting for the condition on pods\/p1/);
    },
  },
  {
    name: "delete: --cascade=foreground|orphan, --grace-period, --now, --force",
    async run(c) {
      await c.ok(["create", "deployment", "fg", `--image=${BUSYBOX_IMAGE}`, "--replicas=0"]);
      await replicaSetOf(c, "fg");
      assert.equal(await c.ok(["delete", "deploy", "fg", "--cascade=foreground"]), 'deployment.apps "fg" deleted\n');
      assert.equal(await c.ok(["get", "rs", "-l", "app=fg", "-o", "name"]), "");
      await c.ok(["create", "deployment", "orph", `--image=${BUSYBOX_IMAGE}`, "--replicas=0"]);
      const rs = await replicaSetOf(c, "orph");
      assert.equal(await c.ok(["delete", "deploy", "orph", "--cascade=orphan"]), 'deployment.apps "orph" deleted\n');
      assert.equal(await jsonpath(c, [rs], "{.metadata.ownerReferences}"), "", "the orphaned ReplicaSet has no owner");
      await c.ok(["delete", rs, "--grace-period=5"]);
      assert.equal(await c.ok(["delete", "cm", "ap", "--now"]), 'configmap "ap" deleted\n');
      const forced = await c.run(["delete", "pod", "p1", "--grace-period=0", "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stderr, /Immediate deletion does not wait for confirmation/);
      assert.equal(forced.stdout, 'pod "p1" force deleted\n');
      const gone = await c.fails(["get", "pod", "p1"]);
      assert.match(gone.stderr, /pods "p1" not found/);
      const missing = await c.fails(["delete", "cm", "nope"]);
      assert.match(missing.stderr, /configmaps "nope" not found/);
      assert.equal(await c.ok(["delete", "cm", "nope", "--ignore-not-found"]), "");
    },
  },
  {
    name: "events",
    async run(c) {
      const out = lines(await c.ok(["events", "-n", SHARED]));
      assert.deepEqual(cells(out[0] ?? ""), ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
      assert.ok(
        out.some((l) => /\sNormal\s+Started\s+Pod\/web\s+Started container web$/.test(l)),
        out.join("\n"),
      );
      const forPod = lines(await c.ok(["events", "-n", SHARED, "--for=pod/crashy", "--types=Warning"]));
      assert.ok(
        forPod.slice(1).length > 0 && forPod.slice(1).every((l) => /\sWarning\s+\S+\s+Pod\/crashy\s/.test(l)),
        forPod.join("\n"),
      );
    },
  },
  {
    name: "proxy",
    async run(c) {
      const p = c.start(["proxy", "--port=0"]);
      const port = Number((await waitOut(p, /Starting to serve on 127\.0\.0\.1:(\d+)/, "kubectl proxy"))[1]);
      const r = await httpGet(`http://127.0.0.1:${port}/api/v1/namespaces/${c.ns}/configmaps/cm1`);
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).data.c, "3");
      assert.equal((await httpGet(`http://127.0.0.1:${port}/version`)).status, 200);
      p.kill();
    },
  },
  {
    name: "auth whoami, auth can-i",
    async run(c) {
      if (c.minor === 27) {
        // kubectl 1.27 knows SelfSubjectReview only in authentication.k8s.io v1alpha1/v1beta1,
        // which upstream 1.33 serves no more (v1beta1: introduced 1.27, so removed in 1.33 by
        // the prerelease lifecycle): it fails against upstream 1.33 as it does here.
        const old = await c.fails(["auth", "whoami"]);
        assert.match(old.stderr, /the selfsubjectreviews API is not enabled in the cluster/);
      } else {
        assert.equal(await c.ok(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]), "kubernetes-admin");
        const who = await c.ok(["auth", "whoami"]);
        assert.match(who, /^Username\s+kubernetes-admin$/m);
        assert.match(who, /^Groups\s+\[system:masters system:authenticated\]$/m);
      }
      assert.equal(await c.ok(["auth", "can-i", "create", "deployments"]), "yes\n");
      assert.equal(await c.ok(["auth", "can-i", "list", "pods", "--as=alice"]), "yes\n");
      const no = await c.run(["auth", "can-i", "delete", "pods", "--as=alice"]);
      assert.equal(no.code, 1);
      assert.equal(no.stdout, "no\n");
      assert.equal(await c.ok(["auth", "can-i", "get", "nodes", "--as=bob"]), "yes\n");
    },
  },
];

describe("kubectl matrix: everyday commands with every installed kubectl", { concurrency: 2 }, () => {
  const cluster = `kl-matrix-${randomUUID().slice(0, 8)}`;
  let api: TestApiServer;
  let kubelet: TestKubelet;
  let cm: TestControllerManager;

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    api = await startApiServer();
    const [k, c] = await Promise.all([
      startKubelet({ kubeconfigPath: api.kubeconfigPath, pki: api.pki, nodeName: "node-1", clusterName: cluster }),
      startControllerManager({
        kubeconfigPath: await api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
        credentials: { token: api.token },
        extraArgs: ["--leader-elect=false", "--controllers=garbagecollector,deployment,replicaset"],
      }),
    ]);
    kubelet = k;
    cm = c;
    // The pods, Service and Deployment the streaming commands use, made once for every version.
    await api.client.create(NAMESPACES, "", { apiVersion: "v1", kind: "Namespace", metadata: { name: SHARED } });
    const pod = (
      name: string,
      containers: NonNullable<Pod["spec"]>["containers"],
      labels?: Record<string, string>,
    ): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: SHARED, ...(labels ? { labels } : {}) },
      spec: { nodeName: "node-1", terminationGracePeriodSeconds: 1, containers },
    });
    await api.client.create(
      PODS,
      SHARED,
      pod(
        "web",
        [
          {
            name: "web",
            image: BUSYBOX_IMAGE,
            command: [
              "sh",
              "-c",
              "mkdir -p /www && echo hello-pf > /www/index.html && httpd -p 8080 -h /www && i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.5; done",
            ],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
          { name: "side", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo side-says-hi; sleep 3600"] },
        ],
        { app: "web" },
      ),
    );
    await api.client.create(
      PODS,
      SHARED,
      pod("crashy", [
        {
          name: "c",
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); exit 1"],
        },
      ]),
    );
    await api.client.create(SERVICES, SHARED, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: SHARED },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await api.client.create(DEPLOYMENTS, SHARED, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: SHARED },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: BUSYBOX_IMAGE }] },
        },
      },
    });
    await waitFor(
      async () => {
        const [web, crashy] = await Promise.all([
          api.client.get<Pod>(PODS, SHARED, "web"),
          api.client.get<Pod>(PODS, SHARED, "crashy"),
        ]);
        const ready = web.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True");
        return ready && (crashy.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
      },
      { timeoutMs: 60_000, message: "pod web Ready and pod crashy restarted once" },
    );
  });

  after(async () => {
    await cm?.stop();
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
  });

  for (const k of kubectls()) {
    test(`kubectl ${k.name}`, async (t) => {
      const ns = `matrix-${k.name.replace(/\W/g, "-")}`;
      const kc = kubectlFor(api.kubeconfigPath, { binary: k.bin, args: ["-n", ns] });
      const run: Ctx["run"] = (args, o = {}) => kc.run(args, { timeoutMs: 30_000, ...o });
      const ctx: Ctx = {
        minor: k.minor,
        version: k.name,
        ns,
        dir: kc.home,
        api,
        run,
        start: (args) => kc.start(args),
        async ok(args, o) {
          const r = await run(args, o);
          assert.equal(r.code, 0, `kubectl ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
          return r.stdout;
        },
        async fails(args, o) {
          const r = await run(args, o);
          assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} should fail:\n${r.stdout}`);
          return r;
        },
        commandLine: () => kc.commandLine(),
      };
      try {
        for (const c of CASES) {
          if (c.versions && !c.versions(k.minor)) continue;
          await t.test(c.name, () => c.run(ctx));
        }
      } finally {
        kc.close();
      }
    });
  }
});

// Guard against a machine where the dispatcher itself is missing: the matrix would run nothing.
test("a kubectl is installed", () => {
  assert.ok(existsSync(DISPATCHER), `${DISPATCHER} not found`);
});
