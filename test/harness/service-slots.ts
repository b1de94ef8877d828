// Service address slots for test clusters that run kubeling-proxy. A proxy programs the host
// itself (routes, iptables, listening ports), and test clusters run in parallel on one machine
// (two test files at a time, other checkouts' tests beside them), so two clusters must never
// hand out the same cluster IP or node port: each takes a slot first, by design rather than by
// luck. Slot i (1..100) is the Service range 10.112.i.0/24 and node ports 28000+20(i-1) ..
// +19, and host ports 26000+10(i-1) .. +9 for the ports of LoadBalancer services (opened on
// the host itself: they must be the slot's too); all outside upstream's defaults (10.96.0.0/12, 30000-32767), which compose's and
// `npm run up`'s clusters use, so those never collide with a test cluster either. A slot is a
// directory made with mkdir (atomic) holding its owner's pid; a slot whose owner died is taken
// over. Chains are kept apart by the cluster's name (proxy/iptables/chains.ts).

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

const DIR = "/tmp/kubeling-service-slots";
const SLOTS = 100;
const PORTS_PER_SLOT = 20;
const FIRST_NODE_PORT = 28000;
const FIRST_HOST_PORT = 26000;

export interface ServiceSlot {
  index: number;
  /** --service-cluster-ip-range of the API server and the proxy. */
  serviceCIDR: string;
  /** The range's first address: the `kubernetes` Service's cluster IP. */
  firstIP: string;
  /** --service-node-port-range, e.g. "28000-28019". */
  nodePortRange: string;
  /** Ten ports for LoadBalancer services' spec.ports[].port (kubeling opens them on the host). */
  hostPorts: number[];
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function slot(index: number): Omit<ServiceSlot, "release"> {
  const first = FIRST_NODE_PORT + (index - 1) * PORTS_PER_SLOT;
  return {
    index,
    serviceCIDR: `10.112.${index}.0/24`,
    firstIP: `10.112.${index}.1`,
    nodePortRange: `${first}-${first + PORTS_PER_SLOT - 1}`,
    hostPorts: Array.from({ length: 10 }, (_, k) => FIRST_HOST_PORT + (index - 1) * 10 + k),
  };
}

/** claimServiceSlot takes a free slot (failing when all 100 are held by live processes). */
export async function claimServiceSlot(): Promise<ServiceSlot> {
  await mkdir(DIR, { recursive: true });
  const start = Math.floor(Math.random() * SLOTS);
  for (let k = 0; k < SLOTS; k++) {
    const index = ((start + k) % SLOTS) + 1;
    const path = join(DIR, String(index));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await mkdir(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const owner = Number((await readFile(join(path, "pid"), "utf8").catch(() => "")).trim());
        // A slot being claimed right now has no pid yet: leave it.
        if (!owner || alive(owner)) break;
        await rm(path, { recursive: true, force: true });
        continue;
      }
      await writeFile(join(path, "pid"), String(process.pid));
      return { ...slot(index), release: () => rm(path, { recursive: true, force: true }) };
    }
  }
  throw new Error(`no free service slot in ${DIR}: ${SLOTS} test clusters with proxies are running`);
}
