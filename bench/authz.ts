// What authorization costs a request (issue 8): the same requests by the same non-admin user
// (a client certificate: user-99 in bench-users, never system:masters, which every mode lets
// through first) against two API servers on one etcd, one --authorization-mode=AlwaysAllow, the
// other in the default Node,RBAC with 100 Roles and 100 RoleBindings in the namespace, the caller
// bound by the last of them, so that the rule resolver walks every binding before it finds it:
// GET one ConfigMap and LIST the namespace's 100 ConfigMaps (about 1.5 KB each), at concurrency
// 1 and 16. Both servers hold the same objects, and the rounds alternate between them (three each,
// the best throughput kept), so other load on the box falls on both alike; each RBAC row's note
// is its ratio to the AlwaysAllow row above it, the floor measured in the same run.

import { ROLEBINDINGS, ROLES } from "#pkg/api/resources.js";
import type { Role, RoleBinding } from "#pkg/api/types/rbac.js";
import { loadKubeconfig } from "#pkg/client/kubeconfig.js";
import { startApiServer, type TestApiServer } from "../test/harness/apiserver.js";
import { waitFor } from "../test/harness/wait.js";
import { BenchHttp, configMap } from "./http.js";
import { type BenchRow, closedLoop, type LoadResult, payload, row } from "./stats.js";

export interface AuthzBenchOptions {
  /** The etcd both API servers store in (under prefixes of their own). */
  etcd: string;
  durationMs: number;
  log: (msg: string) => void;
  /** Roles, RoleBindings and ConfigMaps in the namespace (default 100 each). */
  objects?: number;
  /** Alternating rounds per mode and case (default 3; the best kept). */
  rounds?: number;
}

const NS = "bench-authz";
const DATA_BYTES = 1200;
const RBAC_GROUP = "rbac.authorization.k8s.io";

interface Mode {
  label: string;
  server: TestApiServer;
  http: BenchHttp;
}

/**
 * Role i grants get/list/watch on ConfigMaps named cm-i; the caller's role (the last) on every
 * ConfigMap. Binding i binds role i to user-i and group group-i, so every binding's subjects are
 * looked at.
 */
function role(i: number, last: boolean): Role {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "Role",
    metadata: { name: `role-${i}`, namespace: NS },
    rules: [
      {
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get", "list", "watch"],
        ...(last ? {} : { resourceNames: [`cm-${i}`] }),
      },
    ],
  };
}

function binding(i: number): RoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "RoleBinding",
    metadata: { name: `binding-${i}`, namespace: NS },
    roleRef: { apiGroup: RBAC_GROUP, kind: "Role", name: `role-${i}` },
    subjects: [
      { kind: "User", apiGroup: RBAC_GROUP, name: `user-${i}` },
      { kind: "Group", apiGroup: RBAC_GROUP, name: `group-${i}` },
    ],
  };
}

/** The namespace, its ConfigMaps, Roles and RoleBindings, written by the admin; then a client as the caller. */
async function prepare(server: TestApiServer, label: string, objects: number): Promise<Mode> {
  const admin = new BenchHttp(server, 8);
  try {
    await admin.ensureNamespace(NS);
    const data = payload(DATA_BYTES, 11);
    const base = `/api/v1/namespaces/${NS}`;
    await closedLoop({ concurrency: 8, durationMs: 120_000, maxOps: objects }, async (i) => {
      await admin.expect("POST", `${base}/configmaps`, [201, 409], configMap(NS, `cm-${i}`, data));
      await admin.expect(
        "POST",
        `/apis/${RBAC_GROUP}/v1/namespaces/${NS}/roles`,
        [201, 409],
        role(i, i === objects - 1),
      );
    });
    // The bindings in order, the caller's last.
    await closedLoop({ concurrency: 1, durationMs: 120_000, maxOps: objects }, (i) =>
      admin.expect("POST", `/apis/${RBAC_GROUP}/v1/namespaces/${NS}/rolebindings`, [201, 409], binding(i)),
    );
  } finally {
    await admin.close();
  }
  const config = loadKubeconfig({
    path: await server.kubeconfigFor({ name: `user-${objects - 1}`, groups: ["bench-users"] }),
  });
  if (!config.certPem || !config.keyPem) throw new Error("kubeconfigFor wrote no client certificate");
  const http = new BenchHttp({ ...server, clientCert: { cert: config.certPem, key: config.keyPem } }, 16);
  // RBAC reads the watch cache: wait until it has seen the caller's binding.
  await waitFor(async () => (await http.request("GET", `/api/v1/namespaces/${NS}/configmaps/cm-0`)).status === 200, {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: `${label}: user-${objects - 1} may get configmaps`,
  });
  const list = JSON.parse(await http.expect("GET", `/api/v1/namespaces/${NS}/configmaps`, [200])) as {
    items: unknown[];
  };
  if (list.items.length !== objects)
    throw new Error(`${label}: listed ${list.items.length} ConfigMaps, want ${objects}`);
  return { label, server, http };
}

const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : "-");

export async function runAuthzBench(o: AuthzBenchOptions): Promise<BenchRow[]> {
  const objects = o.objects ?? 100;
  const rounds = o.rounds ?? 3;
  const servers: TestApiServer[] = [];
  const modes: Mode[] = [];
  try {
    const [allowServer, rbacServer] = await Promise.all([
      startApiServer({ etcd: o.etcd, extraArgs: ["--log-level=warn", "--authorization-mode=AlwaysAllow"] }),
      startApiServer({ etcd: o.etcd, extraArgs: ["--log-level=warn"] }),
    ]);
    servers.push(allowServer, rbacServer);
    modes.push(await prepare(allowServer, "AlwaysAllow", objects));
    modes.push(await prepare(rbacServer, "Node,RBAC", objects));
    // Both servers really hold the RBAC objects (the AlwaysAllow one ignores them).
    for (const m of modes) {
      const admin = m.server.client;
      if ((await admin.list(ROLES, NS)).items.length !== objects) throw new Error(`${m.label}: roles missing`);
      if ((await admin.list(ROLEBINDINGS, NS)).items.length !== objects)
        throw new Error(`${m.label}: bindings missing`);
    }
    o.log(`authz: ${objects} ConfigMaps, Roles and RoleBindings on both servers`);

    const base = `/api/v1/namespaces/${NS}/configmaps`;
    const cases = [
      {
        name: "get ConfigMap",
        op: (http: BenchHttp, i: number) => http.expect("GET", `${base}/cm-${Math.abs(i * 7919) % objects}`, [200]),
      },
      { name: `list ${objects} ConfigMaps`, op: (http: BenchHttp) => http.expect("GET", base, [200]) },
    ];
    const rows: BenchRow[] = [];
    for (const c of cases) {
      for (const concurrency of [1, 16]) {
        const best = new Map<string, LoadResult>();
        const seen = new Map<string, number[]>();
        for (let r = 0; r < rounds; r++) {
          // Alternate which mode goes first, so neither always runs on a warmer (or busier) box.
          const order = r % 2 === 0 ? modes : [...modes].reverse();
          for (const m of order) {
            const res = await closedLoop({ concurrency, durationMs: o.durationMs, warmupOps: 20 }, (i) =>
              c.op(m.http, i),
            );
            seen.set(m.label, [...(seen.get(m.label) ?? []), res.opsPerSec]);
            const prev = best.get(m.label);
            if (!prev || res.opsPerSec > prev.opsPerSec) best.set(m.label, res);
          }
        }
        const allow = best.get("AlwaysAllow") as LoadResult;
        const rbac = best.get("Node,RBAC") as LoadResult;
        const rounded = (label: string) => (seen.get(label) ?? []).map((v) => Math.round(v)).join(", ");
        o.log(
          `authz: ${c.name} c${concurrency}: AlwaysAllow ${Math.round(allow.opsPerSec)}/s, Node,RBAC ${Math.round(rbac.opsPerSec)}/s`,
        );
        rows.push(
          row("authz", `${c.name}: AlwaysAllow`, allow, {
            concurrency,
            note: `ops/s by round ${rounded("AlwaysAllow")}`,
          }),
          row("authz", `${c.name}: Node,RBAC (${objects} Roles + RoleBindings)`, rbac, {
            concurrency,
            reference: `${ratio(rbac.opsPerSec, allow.opsPerSec)}× AlwaysAllow's ops/s`,
            note:
              `ops/s ${ratio(rbac.opsPerSec, allow.opsPerSec)}×, p50 ${ratio(rbac.p50Ms, allow.p50Ms)}×, ` +
              `p99 ${ratio(rbac.p99Ms, allow.p99Ms)}× AlwaysAllow's; ops/s by round ${rounded("Node,RBAC")}`,
          }),
        );
      }
    }
    return rows;
  } finally {
    await Promise.allSettled(modes.map((m) => m.http.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}
