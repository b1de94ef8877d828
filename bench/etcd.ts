// Raw etcd through the etcd3 client (the same client the API server uses): put and get latency
// and throughput, sequential and with 16 workers, 1 KiB values, as in reference/PERF.md B1.
// This is the floor the API server figures sit on.

import { Etcd3 } from "etcd3";
import { type BenchRow, closedLoop, payload, row } from "./stats.js";

export interface EtcdBenchOptions {
  endpoint: string;
  durationMs: number;
}

export async function benchEtcd(o: EtcdBenchOptions): Promise<BenchRow[]> {
  const client = new Etcd3({ hosts: o.endpoint });
  const prefix = `/kubeling-bench/${Date.now()}`;
  const value = payload(1024, 1);
  const keys = 1000;
  const rows: BenchRow[] = [];
  try {
    for (const concurrency of [1, 16]) {
      const r = await closedLoop({ concurrency, durationMs: o.durationMs, warmupOps: 50 }, (i) =>
        client
          .put(`${prefix}/k${Math.abs(i) % keys}`)
          .value(value)
          .exec(),
      );
      rows.push(
        row("etcd", "put 1 KiB", r, {
          concurrency,
          reference: concurrency === 1 ? "1,097/s p50 0.83 p99 2.64" : "4,239/s p50 3.17 p99 13.3",
        }),
      );
    }
    // Every key the gets read must exist, whatever the put runs reached.
    await closedLoop({ concurrency: 16, durationMs: 60_000, maxOps: keys }, (i) =>
      client.put(`${prefix}/k${i}`).value(value).exec(),
    );
    for (const concurrency of [1, 16]) {
      const r = await closedLoop({ concurrency, durationMs: o.durationMs, warmupOps: 50 }, async (i) => {
        const v = await client.get(`${prefix}/k${Math.abs(i) % keys}`).string();
        if (v === null) throw new Error(`key ${prefix}/k${Math.abs(i) % keys} missing`);
      });
      rows.push(
        row("etcd", "get 1 KiB (linearizable)", r, {
          concurrency,
          reference: concurrency === 1 ? "single get p50 0.51 p99 2.2" : "",
        }),
      );
    }
    await client.delete().prefix(prefix).exec();
  } finally {
    client.close();
  }
  return rows;
}
