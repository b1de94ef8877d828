// API server request latency and throughput: ConfigMap create/get (about 1.5 KB each), sequential
// and with 16 concurrent connections, and lists of 1,000 objects (paged from etcd, rv=0 from the
// watch cache, and unpaged). Compare with reference/PERF.md B3 (fastify + etcd3 prototype).

import { type BenchHttp, configMap } from "./http.js";
import { type BenchRow, closedLoop, payload, repeat, row } from "./stats.js";

export interface ApiBenchOptions {
  http: BenchHttp;
  durationMs: number;
  listObjects: number;
  listSamples: number;
}

const DATA_BYTES = 1200; // plus metadata: about 1.5 KB of JSON per stored object

export async function benchApi(o: ApiBenchOptions): Promise<BenchRow[]> {
  const { http } = o;
  const rows: BenchRow[] = [];
  const ns = "bench-api";
  await http.ensureNamespace(ns);
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  const data = payload(DATA_BYTES, 7);
  let created = 0;
  const names: string[] = [];

  for (const concurrency of [1, 16]) {
    const r = await closedLoop({ concurrency, durationMs: o.durationMs, warmupOps: 20 }, async () => {
      const name = `cm-${created++}`;
      await http.expect("POST", base, [201], configMap(ns, name, data));
      names.push(name);
    });
    rows.push(
      row("api", "create ConfigMap (POST)", r, {
        concurrency,
        reference: concurrency === 1 ? "etcd put c1: p50 0.83" : "prototype c50: 3,455/s p50 13 p99 34",
      }),
    );
  }

  for (const concurrency of [1, 16]) {
    const r = await closedLoop({ concurrency, durationMs: o.durationMs, warmupOps: 20 }, (i) =>
      http.expect("GET", `${base}/${names[Math.abs(i * 7919) % names.length]}`, [200]),
    );
    rows.push(
      row("api", "get ConfigMap", r, {
        concurrency,
        reference: concurrency === 1 ? "etcd get c1: p50 0.51 p99 2.2" : "prototype c50: 5,058/s p50 8 p99 27",
      }),
    );
  }

  // Lists: a namespace holding exactly listObjects objects.
  const lns = "bench-list";
  await http.ensureNamespace(lns);
  const lbase = `/api/v1/namespaces/${lns}/configmaps`;
  await closedLoop({ concurrency: 16, durationMs: 120_000, maxOps: o.listObjects }, (i) =>
    http.expect("POST", lbase, [201, 409], configMap(lns, `item-${i}`, data)),
  );
  const count = (text: string): number => (JSON.parse(text) as { items: unknown[] }).items.length;
  const expectCount = (n: number, what: string): void => {
    if (n !== o.listObjects) throw new Error(`${what} returned ${n} items, want ${o.listObjects}`);
  };

  const paged = await repeat(o.listSamples, async () => {
    let cont = "";
    let n = 0;
    do {
      const q = `limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`;
      const body = JSON.parse(await http.expect("GET", `${lbase}?${q}`, [200])) as {
        items: unknown[];
        metadata?: { continue?: string };
      };
      n += body.items.length;
      cont = body.metadata?.continue ?? "";
    } while (cont);
    expectCount(n, "paged list");
  });
  rows.push(
    row("api", `list ${o.listObjects} (limit=500 pages)`, paged, {
      concurrency: 1,
      reference: "etcd range 1k keys: p50 8.9 p99 22.9",
    }),
  );

  const cached = await repeat(o.listSamples, async () => {
    expectCount(count(await http.expect("GET", `${lbase}?resourceVersion=0`, [200])), "rv=0 list");
  });
  rows.push(row("api", `list ${o.listObjects} (resourceVersion=0)`, cached, { concurrency: 1 }));

  const full = await repeat(o.listSamples, async () => {
    expectCount(count(await http.expect("GET", lbase, [200])), "unpaged list");
  });
  rows.push(row("api", `list ${o.listObjects} (unpaged, from etcd)`, full, { concurrency: 1 }));

  return rows;
}
