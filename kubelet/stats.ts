// StatsProvider: the kubelet's /stats/summary (upstream pkg/kubelet/stats, the Summary API fields
// metrics consumers read): per-pod, per-container CPU and memory, and the node's totals. CPU
// rates need two samples; a container seen for the first time is sampled twice, 200 ms apart.

import { readFile } from "node:fs/promises";
import os from "node:os";
import type { Clock } from "#pkg/runtime/clock.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";

const FIRST_SAMPLE_GAP_MS = 200;

export interface StatsOptions {
  runtime: Runtime;
  /** A fresh runtime list (the PLEG's). */
  list: () => Promise<ContainerInfo[]>;
  nodeName: string;
  clock: Clock;
  signal: AbortSignal;
}

interface CpuStats {
  time: string;
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
}

interface MemoryStats {
  time: string;
  workingSetBytes: number;
  availableBytes?: number;
}

export interface Summary {
  node: { nodeName: string; cpu: CpuStats; memory: MemoryStats };
  pods: Array<{
    podRef: { name?: string; namespace?: string; uid: string };
    containers: Array<{ name: string; startTime?: string; cpu: CpuStats; memory: MemoryStats }>;
    cpu: CpuStats;
    memory: MemoryStats;
  }>;
}

export class StatsProvider {
  /** Last CPU sample per container id ("node" for the machine), for rates. */
  private readonly lastCpu = new Map<string, { t: number; usage: number }>();

  constructor(private readonly o: StatsOptions) {}

  async summary(): Promise<Summary> {
    const { runtime, clock } = this.o;
    const list = await this.o.list();
    const running = list.filter((c) => c.type !== "sandbox" && c.state === "running");
    const sample = async (ids: string[]) => {
      const st = await runtime.stats(ids);
      return { at: clock.now(), st };
    };
    let first = await sample(running.map((c) => c.id));
    const fresh = running.filter((c) => !this.lastCpu.has(c.id) && first.st.has(c.id));
    if (fresh.length > 0) {
      for (const c of fresh)
        this.lastCpu.set(c.id, { t: first.at, usage: first.st.get(c.id)?.cpuUsageCoreNanoSeconds ?? 0 });
      await clock.sleep(FIRST_SAMPLE_GAP_MS, this.o.signal);
      first = await sample(running.map((c) => c.id));
    }
    const rate = (key: string, usage: number, at: number): number => {
      const prev = this.lastCpu.get(key);
      this.lastCpu.set(key, { t: at, usage });
      if (!prev || at <= prev.t) return 0;
      return Math.max(0, Math.round((usage - prev.usage) / ((at - prev.t) / 1000)));
    };
    for (const id of [...this.lastCpu.keys()])
      if (!id.startsWith("node") && !running.some((c) => c.id === id)) this.lastCpu.delete(id);
    const time = new Date(first.at).toISOString();
    const byPod = new Map<string, ContainerInfo[]>();
    for (const c of running) byPod.set(c.podUid, [...(byPod.get(c.podUid) ?? []), c]);
    const pods = [...byPod].map(([uid, cs]) => {
      const containers = cs.flatMap((c) => {
        const st = first.st.get(c.id);
        if (!st) return [];
        return [
          {
            name: c.name,
            ...(c.startedAt ? { startTime: c.startedAt } : {}),
            cpu: {
              time,
              usageNanoCores: rate(c.id, st.cpuUsageCoreNanoSeconds, first.at),
              usageCoreNanoSeconds: st.cpuUsageCoreNanoSeconds,
            },
            memory: { time, workingSetBytes: st.memoryWorkingSetBytes },
          },
        ];
      });
      const sum = (f: (x: (typeof containers)[number]) => number) => containers.reduce((a, x) => a + f(x), 0);
      return {
        podRef: { name: cs[0]?.podName, namespace: cs[0]?.podNamespace, uid },
        containers,
        cpu: {
          time,
          usageNanoCores: sum((x) => x.cpu.usageNanoCores),
          usageCoreNanoSeconds: sum((x) => x.cpu.usageCoreNanoSeconds),
        },
        memory: { time, workingSetBytes: sum((x) => x.memory.workingSetBytes) },
      };
    });
    const nodeCpu = await nodeCpuUsage();
    return {
      node: {
        nodeName: this.o.nodeName,
        cpu: { time, usageNanoCores: rate("node", nodeCpu, first.at), usageCoreNanoSeconds: nodeCpu },
        memory: { time, workingSetBytes: os.totalmem() - os.freemem(), availableBytes: os.freemem() },
      },
      pods,
    };
  }
}

/** nodeCpuUsage: cumulative CPU ns of the whole machine (root cpuacct, else /proc/stat). */
async function nodeCpuUsage(): Promise<number> {
  try {
    return Number((await readFile("/sys/fs/cgroup/cpuacct/cpuacct.usage", "utf8")).trim());
  } catch {
    const t = os.cpus().reduce((a, c) => a + c.times.user + c.times.sys + c.times.irq + c.times.nice, 0);
    return t * 1_000_000;
  }
}
