// The iptables proxier's rule generator: the whole desired nat and filter content of a cluster's
// chains, from one ProxyState, as the input of one `iptables-restore --noflush` (upstream's
// syncProxyRules, pkg/proxy/iptables/proxier.go, with its chain layout and comments). Pure: the
// proxier (proxier.ts) adds the jumps from the built-in chains and runs it; unit tests compare
// its text with golden output.
//
//   nat  PREROUTING, OUTPUT → KUBE-SERVICES: "-d <clusterIP> --dport <port>" → KUBE-SVC-<hash>
//        (LB and external IPs → KUBE-EXT-<hash>, or KUBE-FW-<hash> with source ranges); last,
//        addrtype LOCAL → KUBE-NODEPORTS: "--dport <nodePort>" → KUBE-EXT-<hash> (masquerade,
//        then KUBE-SVC / KUBE-SVL); KUBE-SVC: one `statistic --mode random` jump per endpoint
//        (1/n, 1/(n-1), ..., the last unconditional) to KUBE-SEP-<hash>, which DNATs; marked
//        packets are masqueraded in KUBE-POSTROUTING.
//   filter  REJECT for services without endpoints (KUBE-SERVICES for cluster IPs,
//        KUBE-EXTERNAL-SERVICES for node ports and external addresses), KUBE-FORWARD,
//        KUBE-FIREWALL (route_localnet's guard), KUBE-PROXY-FIREWALL (source ranges).

import { type EndpointInfo, endpointString, type ProxyState, type ServicePortInfo, usableEndpoints } from "../model.js";
import { type ChainNames, endpointChain, isServiceChain, servicePortChain } from "./chains.js";

/** Upstream's masquerade bit (--iptables-masquerade-bit 14). */
export const MASQUERADE_MARK = "0x4000";

export interface RuleConfig {
  chains: ChainNames;
  /** The node's name (endpoints on it are local for the Local traffic policies). */
  hostname: string;
  /**
   * Pods' CIDR (--cluster-cidr): traffic to a cluster IP from outside it is masqueraded. Without
   * one, kubeling masquerades traffic the host itself sends (addrtype --src-type LOCAL), so that
   * the host reaches cluster IPs however it is configured.
   */
  clusterCIDR?: string;
  /** --masquerade-all: masquerade every packet to a cluster IP. */
  masqueradeAll?: boolean;
  /** --nodeport-addresses CIDRs; empty: every local address. */
  nodePortAddresses?: readonly string[];
  /** Where host LoadBalancer services are opened besides their ingress IPs, unless the state says (ProxyState.hostAddresses). */
  hostAddresses?: readonly string[];
  /** MASQUERADE --random-fully (iptables ≥ 1.6.2, as upstream checks). */
  randomFully?: boolean;
}

/** A jump from a built-in chain that the proxier makes sure exists (upstream's iptablesJumpChains). */
export interface JumpRule {
  table: "nat" | "filter";
  /** The built-in chain, e.g. PREROUTING. */
  from: string;
  to: string;
  /** The rule's arguments before -j, as iptables-save prints them. */
  args: string[];
}

/** jumpRules: every jump into the cluster's chains (iptables mode). */
export function jumpRules(c: ChainNames): JumpRule[] {
  const isNew = ["-m", "conntrack", "--ctstate", "NEW"];
  const j = (table: JumpRule["table"], from: string, to: string, comment: string, extra: string[] = []): JumpRule => ({
    table,
    from,
    to,
    args: [...(comment ? ["-m", "comment", "--comment", quote(comment)] : []), ...extra],
  });
  return [
    j("filter", "INPUT", c.externalServices, "kubernetes externally-visible service portals", isNew),
    j("filter", "FORWARD", c.externalServices, "kubernetes externally-visible service portals", isNew),
    j("filter", "FORWARD", c.services, "kubernetes service portals", isNew),
    j("filter", "OUTPUT", c.services, "kubernetes service portals", isNew),
    // kubeling: the service range is routed to lo (DESIGN section 6), so a packet to a cluster IP
    // that no DNAT rewrote is delivered locally (INPUT), not forwarded: it is rejected there.
    j("filter", "INPUT", c.services, "kubernetes service portals", isNew),
    j("filter", "FORWARD", c.forward, "kubernetes forwarding rules"),
    j("filter", "INPUT", c.proxyFirewall, "kubernetes load balancer firewall", isNew),
    j("filter", "OUTPUT", c.proxyFirewall, "kubernetes load balancer firewall", isNew),
    j("filter", "FORWARD", c.proxyFirewall, "kubernetes load balancer firewall", isNew),
    j("filter", "INPUT", c.firewall, ""),
    j("filter", "OUTPUT", c.firewall, ""),
    j("nat", "OUTPUT", c.services, "kubernetes service portals"),
    j("nat", "PREROUTING", c.services, "kubernetes service portals"),
    j("nat", "POSTROUTING", c.postrouting, "kubernetes postrouting rules"),
  ];
}

/** quote: how upstream writes a comment with spaces into iptables-restore input. */
export function quote(s: string): string {
  return /[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s;
}

/** One table's chains (in declaration order) and rules (grouped by chain, in order). */
class TableBuilder {
  readonly #chains: string[] = [];
  readonly #rules = new Map<string, string[]>();
  readonly #deleted: string[] = [];

  chain(name: string): string {
    if (!this.#rules.has(name)) {
      this.#chains.push(name);
      this.#rules.set(name, []);
    }
    return name;
  }

  has(name: string): boolean {
    return this.#rules.has(name);
  }

  rule(chain: string, ...parts: Array<string | number | false | undefined | string[]>): void {
    this.chain(chain);
    const args: string[] = [];
    for (const p of parts) {
      if (p === false || p === undefined) continue;
      if (Array.isArray(p)) args.push(...p);
      else args.push(String(p));
    }
    this.#rules.get(chain)?.push(`-A ${chain} ${args.join(" ")}`);
  }

  /** Declares (flushes) a chain and deletes it, in the same transaction. */
  delete(name: string): void {
    if (this.#rules.has(name)) return;
    this.#deleted.push(name);
  }

  get ruleCount(): number {
    let n = 0;
    for (const r of this.#rules.values()) n += r.length;
    return n;
  }

  get chains(): string[] {
    return [...this.#chains];
  }

  render(table: string): string {
    const lines = [`*${table}`];
    for (const c of [...this.#chains, ...this.#deleted]) lines.push(`:${c} - [0:0]`);
    for (const c of this.#chains) lines.push(...(this.#rules.get(c) ?? []));
    for (const c of this.#deleted) lines.push(`-X ${c}`);
    lines.push("COMMIT");
    return `${lines.join("\n")}\n`;
  }
}

export interface GeneratedRules {
  /** iptables-restore input for both tables (filter first, as upstream). */
  text: string;
  filter: string;
  nat: string;
  /** Rules per table (kubeproxy_sync_proxy_rules_iptables_total). */
  ruleCount: { filter: number; nat: number };
  /** The per-service chains this state uses, by table. */
  serviceChains: { filter: string[]; nat: string[] };
}

function comment(text: string): string[] {
  return ["-m", "comment", "--comment", quote(text)];
}

function proto(p: string): string[] {
  const l = p.toLowerCase();
  return ["-m", l, "-p", l];
}

/** The probability upstream writes for endpoint i of n (fmt "%0.10f" of 1/(n-i)). */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/**
 * generateRules: the restore input for state. existing lists this cluster's per-service chains
 * now installed (from iptables-save): those the state no longer needs are deleted in the same
 * transaction.
 */
export function generateRules(
  state: ProxyState,
  cfg: RuleConfig,
  existing: { nat?: Iterable<string>; filter?: Iterable<string> } = {},
): GeneratedRules {
  const c = cfg.chains;
  const filter = new TableBuilder();
  const nat = new TableBuilder();
  const masq = c.markMasq;
  for (const ch of [c.services, c.externalServices, c.forward, c.firewall, c.proxyFirewall]) filter.chain(ch);
  for (const ch of [c.services, c.nodePorts, c.postrouting, masq]) nat.chain(ch);

  nat.rule(masq, "-j MARK --or-mark", MASQUERADE_MARK);
  nat.rule(c.postrouting, "-m mark ! --mark", `${MASQUERADE_MARK}/${MASQUERADE_MARK}`, "-j RETURN");
  nat.rule(c.postrouting, "-j MARK --xor-mark", MASQUERADE_MARK);
  nat.rule(
    c.postrouting,
    comment("kubernetes service traffic requiring SNAT"),
    "-j MASQUERADE",
    cfg.randomFully && "--random-fully",
  );

  const hostAddresses = state.hostAddresses ?? cfg.hostAddresses ?? [];
  for (const { svc, endpoints } of state.services) writeServicePort(svc, endpoints, cfg, hostAddresses, filter, nat);

  // Node ports last, as upstream: a more specific cluster IP or LB rule matches first.
  const npComment = comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
  const npAddrs = cfg.nodePortAddresses ?? [];
  if (npAddrs.length === 0) nat.rule(c.services, npComment, "-m addrtype --dst-type LOCAL -j", c.nodePorts);
  else for (const cidr of npAddrs) nat.rule(c.services, npComment, "-d", cidr, "-j", c.nodePorts);

  filter.rule(c.forward, "-m conntrack --ctstate INVALID -j DROP");
  filter.rule(
    c.forward,
    comment("kubernetes forwarding rules"),
    "-m mark --mark",
    `${MASQUERADE_MARK}/${MASQUERADE_MARK}`,
    "-j ACCEPT",
  );
  filter.rule(
    c.forward,
    comment("kubernetes forwarding conntrack rule"),
    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  );
  filter.rule(
    c.firewall,
    comment("block incoming localnet connections"),
    "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
  );

  const used = { nat: nat.chains.filter(isServiceChain), filter: filter.chains.filter(isServiceChain) };
  for (const ch of existing.nat ?? []) if (isServiceChain(ch) && !nat.has(ch)) nat.delete(ch);
  for (const ch of existing.filter ?? []) if (isServiceChain(ch) && !filter.has(ch)) filter.delete(ch);
  const filterText = filter.render("filter");
  const natText = nat.render("nat");
  return {
    text: filterText + natText,
    filter: filterText,
    nat: natText,
    ruleCount: { filter: filter.ruleCount, nat: nat.ruleCount },
    serviceChains: used,
  };
}

function writeServicePort(
  svc: ServicePortInfo,
  all: readonly EndpointInfo[],
  cfg: RuleConfig,
  hostAddresses: readonly string[],
  filter: TableBuilder,
  nat: TableBuilder,
): void {
  const c = cfg.chains;
  const name = svc.name;
  const p = proto(svc.protocol);
  const clusterEps = usableEndpoints(all);
  const localEps = usableEndpoints(all, { local: true, nodeName: cfg.hostname });
  const hasEndpoints = clusterEps.length > 0;
  const internalEps = svc.internalPolicyLocal ? localEps : clusterEps;
  const externalEps = svc.externalPolicyLocal ? localEps : clusterEps;

  const svcChain = servicePortChain(c, "KUBE-SVC-", name, svc.protocol);
  const svlChain = servicePortChain(c, "KUBE-SVL-", name, svc.protocol);
  const extChain = servicePortChain(c, "KUBE-EXT-", name, svc.protocol);
  const fwChain = servicePortChain(c, "KUBE-FW-", name, svc.protocol);

  // External destinations: node port, LB ingress IPs (plus the host's own addresses for a
  // LoadBalancer kubeling-proxy serves itself), external IPs.
  const lbIPs = [...svc.loadBalancerIPs];
  if (svc.hostLoadBalancer) for (const a of hostAddresses) if (!lbIPs.includes(a)) lbIPs.push(a);
  const externallyAccessible = svc.nodePort > 0 || lbIPs.length > 0 || svc.externalIPs.length > 0;
  const usesClusterChain = clusterEps.length > 0 && (!svc.internalPolicyLocal || externallyAccessible);
  const usesLocalChain = localEps.length > 0 && (svc.internalPolicyLocal || svc.externalPolicyLocal);
  const internalChain = svc.internalPolicyLocal ? svlChain : svcChain;

  // Filter targets for traffic that has nowhere to go (upstream's wording).
  const internalReject = !hasEndpoints
    ? { target: "REJECT", comment: `${name} has no endpoints` }
    : internalEps.length === 0
      ? { target: "DROP", comment: `${name} has no local endpoints` }
      : undefined;
  const externalReject = !hasEndpoints
    ? { target: "REJECT", comment: `${name} has no endpoints` }
    : externalEps.length === 0
      ? { target: "DROP", comment: `${name} has no local endpoints` }
      : undefined;

  // Cluster IP.
  if (!internalReject) {
    nat.rule(
      c.services,
      comment(`${name} cluster IP`),
      p,
      "-d",
      svc.clusterIP,
      "--dport",
      svc.port,
      "-j",
      internalChain,
    );
  } else {
    filter.rule(
      c.services,
      comment(internalReject.comment),
      p,
      "-d",
      svc.clusterIP,
      "--dport",
      svc.port,
      "-j",
      internalReject.target,
    );
  }

  // External IPs and LoadBalancer IPs.
  const useFirewall = svc.loadBalancerSourceRanges.length > 0 && lbIPs.length > 0;
  for (const ip of svc.externalIPs) {
    if (!externalReject)
      nat.rule(c.services, comment(`${name} external IP`), p, "-d", ip, "--dport", svc.port, "-j", extChain);
    else
      filter.rule(
        c.externalServices,
        comment(externalReject.comment),
        p,
        "-d",
        ip,
        "--dport",
        svc.port,
        "-j",
        externalReject.target,
      );
  }
  for (const ip of lbIPs) {
    if (!externalReject)
      nat.rule(
        c.services,
        comment(`${name} loadbalancer IP`),
        p,
        "-d",
        ip,
        "--dport",
        svc.port,
        "-j",
        useFirewall ? fwChain : extChain,
      );
    else
      filter.rule(
        c.externalServices,
        comment(externalReject.comment),
        p,
        "-d",
        ip,
        "--dport",
        svc.port,
        "-j",
        externalReject.target,
      );
  }

  // Node port.
  if (svc.nodePort > 0) {
    if (!externalReject) nat.rule(c.nodePorts, comment(name), p, "--dport", svc.nodePort, "-j", extChain);
    else
      filter.rule(
        c.externalServices,
        comment(externalReject.comment),
        "-m addrtype --dst-type LOCAL",
        p,
        "--dport",
        svc.nodePort,
        "-j",
        externalReject.target,
      );
  }

  // The external chain: masquerade (it is not known to come back through us otherwise), then on.
  if (externallyAccessible && !externalReject) {
    nat.chain(extChain);
    if (svc.externalPolicyLocal) {
      if (usesClusterChain) {
        if (cfg.clusterCIDR)
          nat.rule(
            extChain,
            comment(`pod traffic for ${name} external destinations`),
            "-s",
            cfg.clusterCIDR,
            "-j",
            svcChain,
          );
        nat.rule(
          extChain,
          comment(`masquerade LOCAL traffic for ${name} external destinations`),
          "-m addrtype --src-type LOCAL -j",
          c.markMasq,
        );
        nat.rule(
          extChain,
          comment(`route LOCAL traffic for ${name} external destinations`),
          "-m addrtype --src-type LOCAL -j",
          svcChain,
        );
      }
      nat.rule(extChain, "-j", svlChain);
    } else {
      nat.rule(extChain, comment(`masquerade traffic for ${name} external destinations`), "-j", c.markMasq);
      nat.rule(extChain, "-j", svcChain);
    }
  }

  // The LB firewall: allowed sources go on, the rest is dropped in filter.
  if (useFirewall && !externalReject) {
    nat.chain(fwChain);
    for (const range of svc.loadBalancerSourceRanges)
      nat.rule(fwChain, comment(`${name} loadbalancer IP`), "-s", range, "-j", extChain);
    nat.rule(fwChain, comment(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
    for (const ip of lbIPs)
      filter.rule(
        c.proxyFirewall,
        comment(`${name} traffic not accepted by ${fwChain}`),
        p,
        "-d",
        ip,
        "--dport",
        svc.port,
        "-j DROP",
      );
  }

  // Masquerade cluster IP traffic that does not come from a pod.
  const masqueradeCluster = (chain: string) => {
    const match = [...comment(`${name} cluster IP`), ...p, "-d", svc.clusterIP, "--dport", String(svc.port)];
    if (cfg.masqueradeAll) nat.rule(chain, match, "-j", c.markMasq);
    else if (cfg.clusterCIDR) nat.rule(chain, match, "!", "-s", cfg.clusterCIDR, "-j", c.markMasq);
    else nat.rule(chain, match, "-m addrtype --src-type LOCAL -j", c.markMasq);
  };

  if (usesClusterChain) {
    nat.chain(svcChain);
    if (!svc.internalPolicyLocal) masqueradeCluster(svcChain);
    writeBalancing(svcChain, svc, clusterEps, cfg, nat);
  }
  if (usesLocalChain) {
    nat.chain(svlChain);
    if (svc.internalPolicyLocal) masqueradeCluster(svlChain);
    writeBalancing(svlChain, svc, localEps, cfg, nat);
  }

  // One chain per endpoint reached.
  const reached = new Map<string, EndpointInfo>();
  if (usesClusterChain) for (const e of clusterEps) reached.set(endpointString(e), e);
  if (usesLocalChain) for (const e of localEps) reached.set(endpointString(e), e);
  for (const [ep, e] of reached) {
    const sep = endpointChain(c, name, svc.protocol, ep);
    nat.rule(sep, comment(name), "-s", e.ip, "-j", c.markMasq);
    nat.rule(
      sep,
      comment(name),
      svc.affinityTimeoutSeconds !== undefined && ["-m", "recent", "--name", sep, "--set"],
      p,
      "-j DNAT --to-destination",
      ep,
    );
  }
}

/** The jumps of a service chain to its endpoints: affinity checks first, then random balancing. */
function writeBalancing(
  chain: string,
  svc: ServicePortInfo,
  eps: readonly EndpointInfo[],
  cfg: RuleConfig,
  nat: TableBuilder,
): void {
  const c = cfg.chains;
  if (svc.affinityTimeoutSeconds !== undefined) {
    for (const e of eps) {
      const ep = endpointString(e);
      const sep = endpointChain(c, svc.name, svc.protocol, ep);
      nat.rule(
        chain,
        comment(`${svc.name} -> ${ep}`),
        "-m recent --name",
        sep,
        "--rcheck --seconds",
        svc.affinityTimeoutSeconds,
        "--reap -j",
        sep,
      );
    }
  }
  eps.forEach((e, i) => {
    const ep = endpointString(e);
    const sep = endpointChain(c, svc.name, svc.protocol, ep);
    const last = i === eps.length - 1;
    nat.rule(
      chain,
      comment(`${svc.name} -> ${ep}`),
      !last && ["-m", "statistic", "--mode", "random", "--probability", probability(eps.length - i)],
      "-j",
      sep,
    );
  });
}
