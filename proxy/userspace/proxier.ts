// The userspace proxier: node:net / node:dgram sockets balancing round-robin over each service
// port's ready endpoints (upstream's retired userspace mode). Per service port:
// - a portal socket on a free port, the target of iptables REDIRECTs for the cluster IP (nat
//   KUBE-PORTALS-CONTAINER from PREROUTING for pods, KUBE-PORTALS-HOST from OUTPUT for the host),
//   when this process may write iptables (root); without, cluster IPs are not served;
// - a listener on the node port, on --nodeport-addresses' local addresses or 0.0.0.0, always:
//   a machine without iptables rights still reaches node ports;
// - for a LoadBalancer kubeling serves on the host, a listener on the service port itself, on
//   the host addresses (127.0.0.1 and the node's).
// Every sync makes the sockets match the state; a socket no longer wanted stops accepting, its
// connections run to their end.

import type { Logger } from "#pkg/runtime/log.js";
import type { HostNetwork } from "../host.js";
import type { ChainNames } from "../iptables/chains.js";
import type { Iptables } from "../iptables/iptables.js";
import { beforeCommit, cleanupChains, missingJumps, prepareHost, readTables } from "../iptables/proxier.js";
import { type JumpRule, quote } from "../iptables/rules.js";
import { endpointString, type ProxyState, type ServiceEntry, usableEndpoints } from "../model.js";
import { listenTCP, listenUDP, type ProxySocket } from "./proxy-socket.js";
import { RoundRobin } from "./roundrobin.js";

export interface UserspaceProxierOptions {
  log: Logger;
  hostname: string;
  /** iptables redirects for cluster IPs; undefined when this process may not write them. */
  iptables?: { iptables: Iptables; host: HostNetwork; chains: ChainNames; serviceCIDRs: readonly string[] };
  /** Local addresses for node port listeners; empty: 0.0.0.0. */
  nodePortAddresses: readonly string[];
  /** Addresses host LoadBalancer services listen on (127.0.0.1, the node IP). */
  hostAddresses: readonly string[];
  /** Address of the portal sockets (REDIRECT lands on the incoming interface's address, so 0.0.0.0). */
  portalAddress?: string;
  udpIdleTimeoutMs: number;
}

export interface UserspaceSyncResult {
  ruleCount: { nat: number };
  /** Host LoadBalancer services ("ns/name") whose every port is listening. */
  servedLoadBalancers: Set<string>;
  listeners: number;
}

interface Listener {
  socket: ProxySocket;
  /** The balancer key this socket serves now. */
  target: string;
}

function balancerKey(e: ServiceEntry): string {
  return `${e.svc.name}/${e.svc.protocol}`;
}

export class UserspaceProxier {
  readonly mode = "userspace";
  readonly #o: UserspaceProxierOptions;
  readonly #lb = new RoundRobin();
  /** "proto/address:port" → listener (node ports, LB ports); portals by balancer key. */
  readonly #listeners = new Map<string, Listener>();
  readonly #portals = new Map<string, Listener>();
  #prepared = false;

  constructor(o: UserspaceProxierOptions) {
    this.#o = o;
  }

  /** The portal port of a service port ("ns/name:port/TCP"), for tests. */
  portalPort(key: string): number | undefined {
    return this.#portals.get(key)?.socket.port;
  }

  async #open(protocol: string, address: string, port: number, target: () => string): Promise<ProxySocket> {
    const pick = (client: string | undefined) => this.#lb.next(target(), client);
    const log = this.#o.log;
    return protocol === "UDP"
      ? listenUDP({ address, port, pick, idleTimeoutMs: this.#o.udpIdleTimeoutMs, log })
      : listenTCP({ address, port, pick, log });
  }

  async #ensure(
    map: Map<string, Listener>,
    key: string,
    protocol: string,
    address: string,
    port: number,
    target: string,
    keep: Set<string>,
  ): Promise<boolean> {
    keep.add(key);
    const have = map.get(key);
    if (have) {
      have.target = target;
      return true;
    }
    const l: Listener = { target, socket: undefined as unknown as ProxySocket };
    try {
      l.socket = await this.#open(protocol, address, port, () => l.target);
    } catch (err) {
      keep.delete(key);
      this.#o.log.warn({ err, address, port, protocol, service: target }, "userspace proxy: cannot listen");
      return false;
    }
    map.set(key, l);
    return true;
  }

  async sync(state: ProxyState): Promise<UserspaceSyncResult> {
    const o = this.#o;
    if (o.iptables && !this.#prepared) {
      await prepareHost(o.iptables.host, o.iptables.serviceCIDRs, o.log);
      // The iptables mode's chains (a restart in the other mode) would catch the traffic first.
      await cleanupChains(o.iptables.iptables, o.iptables.chains);
      this.#prepared = true;
    }
    const keepListeners = new Set<string>();
    const keepPortals = new Set<string>();
    const keepBalancers = new Set<string>();
    const lbPorts = new Map<string, boolean>();
    const npAddresses = o.nodePortAddresses.length > 0 ? o.nodePortAddresses : ["0.0.0.0"];

    for (const e of state.services) {
      const key = balancerKey(e);
      keepBalancers.add(key);
      const eps = usableEndpoints(e.endpoints, {
        ...(e.svc.internalPolicyLocal ? { local: true } : {}),
        nodeName: o.hostname,
      });
      o.log.debug({ service: key, endpoints: eps.length }, "userspace proxy: endpoints");
      this.#lb.update(key, eps.map(endpointString), e.svc.affinityTimeoutSeconds);
      const proto = e.svc.protocol;
      if (proto === "SCTP") continue;
      if (o.iptables) await this.#ensure(this.#portals, key, proto, o.portalAddress ?? "0.0.0.0", 0, key, keepPortals);
      if (e.svc.nodePort > 0)
        for (const a of npAddresses)
          await this.#ensure(
            this.#listeners,
            `${proto}/${a}:${e.svc.nodePort}`,
            proto,
            a,
            e.svc.nodePort,
            key,
            keepListeners,
          );
      if (e.svc.hostLoadBalancer) {
        const svcKey = `${e.svc.namespace}/${e.svc.service}`;
        let ok = lbPorts.get(svcKey) ?? true;
        for (const a of state.hostAddresses ?? o.hostAddresses)
          ok =
            (await this.#ensure(
              this.#listeners,
              `${proto}/${a}:${e.svc.port}`,
              proto,
              a,
              e.svc.port,
              key,
              keepListeners,
            )) && ok;
        lbPorts.set(svcKey, ok);
      }
    }

    for (const [k, l] of this.#listeners)
      if (!keepListeners.has(k)) {
        this.#listeners.delete(k);
        await l.socket.close();
      }
    for (const [k, l] of this.#portals)
      if (!keepPortals.has(k)) {
        this.#portals.delete(k);
        await l.socket.close();
      }

    let ruleCount = 0;
    if (o.iptables) ruleCount = await this.#syncRedirects(state);
    for (const k of this.#lb.keys()) if (!keepBalancers.has(k)) this.#lb.delete(k);

    const served = new Set<string>();
    for (const [k, ok] of lbPorts) if (ok) served.add(k);
    return {
      ruleCount: { nat: ruleCount },
      servedLoadBalancers: served,
      listeners: this.#listeners.size + this.#portals.size,
    };
  }

  async #syncRedirects(state: ProxyState): Promise<number> {
    const { iptables, chains } = this.#o.iptables as NonNullable<UserspaceProxierOptions["iptables"]>;
    const lines = ["*nat", `:${chains.portalsContainer} - [0:0]`, `:${chains.portalsHost} - [0:0]`];
    let n = 0;
    for (const e of state.services) {
      const portal = this.#portals.get(balancerKey(e));
      if (!portal) continue;
      const p = e.svc.protocol.toLowerCase();
      const match = `-m comment --comment ${quote(e.svc.name)} -m ${p} -p ${p} -d ${e.svc.clusterIP} --dport ${e.svc.port}`;
      lines.push(`-A ${chains.portalsContainer} ${match} -j REDIRECT --to-ports ${portal.socket.port}`);
      lines.push(`-A ${chains.portalsHost} ${match} -j REDIRECT --to-ports ${portal.socket.port}`);
      n += 2;
    }
    lines.push("COMMIT");
    const saved = await readTables(iptables);
    const jumps: JumpRule[] = [
      {
        table: "nat",
        from: "PREROUTING",
        to: chains.portalsContainer,
        args: ["-m", "comment", "--comment", quote("handle ClusterIPs; NOTE: this must be before the NodePort rules")],
      },
      {
        table: "nat",
        from: "OUTPUT",
        to: chains.portalsHost,
        args: ["-m", "comment", "--comment", quote("handle ClusterIPs; NOTE: this must be before the NodePort rules")],
      },
    ];
    await iptables.restore(beforeCommit(`${lines.join("\n")}\n`, missingJumps(saved.nat, jumps)));
    return n;
  }

  /** close stops every socket (connections in flight are cut: the process is exiting). */
  async close(): Promise<void> {
    for (const l of [...this.#listeners.values(), ...this.#portals.values()]) await l.socket.close();
    this.#listeners.clear();
    this.#portals.clear();
  }
}
