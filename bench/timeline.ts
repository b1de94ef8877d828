// Timeline of one Deployment's rollout, from its create: when the ReplicaSet, the pods, their
// bindings, their containers' starts, Running and Ready, and the ReplicaSet's and Deployment's
// status were seen. Watch receipt times (performance.now()) for the API side; the containers'
// StartedAt from Docker (nanoseconds, wall clock) for the runtime side. It is what tells where a
// rollout's time goes (controllers, scheduler, kubelet, status writes).

import { performance } from "node:perf_hooks";
import { DEPLOYMENTS, PODS, REPLICASETS } from "#pkg/api/resources.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { ApiClient } from "#pkg/client/client.js";
import { clusterContainers, docker } from "../test/harness/kubelet.js";

interface PodMarks {
  created?: number;
  bound?: number;
  running?: number;
  ready?: number;
}

export class RolloutTimeline {
  private readonly ac = new AbortController();
  private readonly pods = new Map<string, PodMarks>();
  private readonly rs: Record<string, number> = {};
  private readonly deploy: Record<string, number> = {};
  /** performance.now() and Date.now() at the create, to place Docker's wall-clock times. */
  private t0 = 0;
  private wall0 = 0;
  private readonly done: Promise<unknown>;

  constructor(
    client: ApiClient,
    private readonly ns: string,
    private readonly name: string,
  ) {
    const sig = this.ac.signal;
    const loop = async <T>(it: AsyncIterable<{ type: string; object: T }>, on: (o: T) => void) => {
      try {
        for await (const ev of it) if (ev.type !== "DELETED") on(ev.object);
      } catch {
        // aborted
      }
    };
    const at = () => performance.now();
    const first = (rec: Record<string, number>, k: string, cond: boolean) => {
      if (cond && rec[k] === undefined) rec[k] = at();
    };
    const label = { labelSelector: `app=${name}` };
    this.done = Promise.all([
      loop(client.watch(PODS, ns, label, sig), (p: Pod) => {
        const uid = p.metadata.uid ?? "";
        let m = this.pods.get(uid);
        if (!m) {
          m = { created: at() };
          this.pods.set(uid, m);
        }
        if (p.spec?.nodeName && m.bound === undefined) m.bound = at();
        if (p.status?.phase === "Running" && m.running === undefined) m.running = at();
        const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        if (ready && m.ready === undefined) m.ready = at();
      }),
      loop(client.watch(REPLICASETS, ns, label, sig), (r: ReplicaSet) => {
        const want = r.spec?.replicas ?? 0;
        first(this.rs, "created", true);
        first(this.rs, "status.replicas=N", want > 0 && r.status?.replicas === want);
        first(this.rs, "status.readyReplicas=N", want > 0 && r.status?.readyReplicas === want);
        first(this.rs, "status.availableReplicas=N", want > 0 && r.status?.availableReplicas === want);
      }),
      loop(client.watch(DEPLOYMENTS, ns, { fieldSelector: `metadata.name=${name}` }, sig), (d: Deployment) => {
        const want = d.spec?.replicas ?? 0;
        first(this.deploy, "created", true);
        first(this.deploy, "status.availableReplicas=N", want > 0 && d.status?.availableReplicas === want);
      }),
    ]);
  }

  /** start marks the create (call just before it). */
  start(): void {
    this.t0 = performance.now();
    this.wall0 = Date.now();
  }

  /** report stops the watches and returns the timeline's lines (seconds after the create). */
  async report(clusterName: string): Promise<string[]> {
    this.ac.abort();
    await this.done;
    const starts: { sandbox: number[]; app: number[] } = { sandbox: [], app: [] };
    const appStartByPod = new Map<string, number>();
    const cs = (await clusterContainers(clusterName)).filter(
      (c) =>
        c.Labels["io.kubernetes.pod.namespace"] === this.ns &&
        c.Labels["io.kubernetes.pod.name"]?.startsWith(this.name),
    );
    await Promise.all(
      cs.map(async (c) => {
        const d = await docker.getContainer(c.Id).inspect();
        const ms = Date.parse(d.State.StartedAt) - this.wall0;
        const type = c.Labels["kubeling.io/container-type"] === "sandbox" ? "sandbox" : "app";
        starts[type].push(ms);
        if (type === "app") appStartByPod.set(c.Labels["io.kubernetes.pod.uid"] ?? "", ms);
      }),
    );
    const rel = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined).map((x) => x - this.t0);
    const marks = [...this.pods.values()];
    const lines = [
      series("pods created", rel(marks.map((m) => m.created))),
      series("pods bound", rel(marks.map((m) => m.bound))),
      series("sandboxes started", starts.sandbox),
      series("apps started", starts.app),
      series("pods Running seen", rel(marks.map((m) => m.running))),
      series("pods Ready seen", rel(marks.map((m) => m.ready))),
    ];
    const lag: number[] = [];
    for (const [uid, m] of this.pods) {
      const s = appStartByPod.get(uid);
      if (s !== undefined && m.ready !== undefined) lag.push(m.ready - this.t0 - s);
    }
    lines.push(series("app start → Ready seen (per pod)", lag, true));
    for (const [k, v] of Object.entries(this.rs)) lines.push(`rs ${k}: ${sec(v - this.t0)}`);
    for (const [k, v] of Object.entries(this.deploy)) lines.push(`deployment ${k}: ${sec(v - this.t0)}`);
    return lines;
  }
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)}`;

function series(what: string, xs: number[], durations = false): string {
  if (xs.length === 0) return `${what}: none`;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  const head = durations ? "" : `first ${sec(s[0] as number)} `;
  return `${what} (${s.length}): ${head}p25 ${sec(q(0.25))} p50 ${sec(q(0.5))} p75 ${sec(q(0.75))} max ${sec(s[s.length - 1] as number)}`;
}
