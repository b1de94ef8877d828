// Protobuf next to JSON (issue 12): get and list throughput of 1,000 pods answered as
// application/vnd.kubernetes.protobuf (what client-go's typed clients and informers ask for) and
// as application/json, in the same run against the same objects, each pair reported with the
// protobuf/JSON throughput ratio. The client only reads the bytes, so the figures are the
// server's: reading from the watch cache or etcd, encoding, writing.

import { decode } from "#pkg/api/protobuf/codec.js";
import type { BenchHttp } from "./http.js";
import { type BenchRow, closedLoop, type LoadResult, row } from "./stats.js";

export interface ProtobufBenchOptions {
  http: BenchHttp;
  durationMs: number;
  /** Pods in the listed namespace (1,000 by default, --list-objects). */
  pods: number;
}

const JSON_ACCEPT = "application/json";
// client-go's typed clients: protobuf first, JSON for kinds that have no protobuf form.
const PB_ACCEPT = "application/vnd.kubernetes.protobuf,application/json";
const PB = "application/vnd.kubernetes.protobuf";

/** A pod shaped like a Deployment's: two containers, env, ports, probes, resources, a volume. */
function pod(ns: string, i: number): object {
  const container = (name: string, image: string, port: number) => ({
    name,
    image,
    ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
    env: [
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "LOG_LEVEL", value: "info" },
      { name: "INDEX", value: String(i) },
    ],
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    readinessProbe: { httpGet: { path: "/healthz", port }, periodSeconds: 5 },
    volumeMounts: [{ name: "config", mountPath: "/etc/app" }],
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `web-${i.toString().padStart(4, "0")}`,
      namespace: ns,
      labels: { app: "web", tier: "frontend", "pod-template-hash": "5d8f7c9b6d" },
      annotations: { "bench.kubeling.io/run": "1" },
    },
    spec: {
      containers: [container("web", "nginx:1.27", 80), container("sidecar", "busybox:1.36", 9090)],
      volumes: [{ name: "config", configMap: { name: "web-config" } }],
      terminationGracePeriodSeconds: 30,
    },
  };
}

function ratioNote(pb: LoadResult, json: LoadResult, concurrency: number): string {
  return `protobuf/JSON ops/s at concurrency ${concurrency}: ${(pb.opsPerSec / json.opsPerSec).toFixed(2)}x`;
}

export async function benchProtobuf(o: ProtobufBenchOptions): Promise<BenchRow[]> {
  const { http } = o;
  const ns = "bench-pb";
  await http.ensureNamespace(ns);
  const base = `/api/v1/namespaces/${ns}/pods`;
  await closedLoop({ concurrency: 16, durationMs: 300_000, maxOps: o.pods }, (i) =>
    http.expect("POST", base, [201, 409], pod(ns, i)),
  );
  const names = Array.from({ length: o.pods }, (_, i) => `web-${i.toString().padStart(4, "0")}`);

  // Both forms answer what they should, once, before anything is timed.
  const check = await http.getBytes(`${base}?resourceVersion=0`, PB_ACCEPT);
  if (check.contentType !== PB) throw new Error(`protobuf list answered ${check.contentType}`);
  const items = (decode(check.body)?.object.items as unknown[] | undefined)?.length;
  if (items !== o.pods) throw new Error(`protobuf list decoded to ${items} pods, want ${o.pods}`);
  const one = await http.getBytes(`${base}/${names[0]}`, PB_ACCEPT);
  if (one.contentType !== PB) throw new Error(`protobuf get answered ${one.contentType}`);

  const rows: BenchRow[] = [];
  const pair = async (
    what: string,
    concurrency: number,
    durationMs: number,
    op: (accept: string, i: number) => Promise<unknown>,
  ): Promise<void> => {
    const json = await closedLoop({ concurrency, durationMs, warmupOps: 5 }, (i) => op(JSON_ACCEPT, i));
    const pb = await closedLoop({ concurrency, durationMs, warmupOps: 5 }, (i) => op(PB_ACCEPT, i));
    rows.push(row("protobuf", `${what} (JSON)`, json, { concurrency }));
    rows.push(row("protobuf", `${what} (protobuf)`, pb, { concurrency, note: ratioNote(pb, json, concurrency) }));
  };

  const get = (accept: string, i: number) =>
    http.getBytes(`${base}/${names[Math.abs(i * 7919) % names.length]}`, accept);
  await pair("get Pod", 1, o.durationMs, get);
  await pair("get Pod", 16, o.durationMs, get);
  // Lists of every pod: from the watch cache (resourceVersion=0, what informers ask first) and
  // from etcd (a quorum read).
  await pair(`list ${o.pods} pods (resourceVersion=0)`, 4, o.durationMs * 2, (accept) =>
    http.getBytes(`${base}?resourceVersion=0`, accept),
  );
  await pair(`list ${o.pods} pods (from etcd)`, 4, o.durationMs * 2, (accept) => http.getBytes(base, accept));
  return rows;
}
