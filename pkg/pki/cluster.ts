// The cluster's PKI, laid out as kubeadm's certs and kubeconfig phases lay out /etc/kubernetes
// (cmd/kubeadm/app/phases/certs/certlist.go, phases/kubeconfig): under one directory,
//
//   pki/ca.crt, ca.key                          the cluster CA ("kubernetes"); --client-ca-file
//   pki/apiserver.crt, .key                     the API server's serving certificate
//   pki/apiserver-kubelet-client.crt, .key      the API server's client certificate to kubelets
//   pki/apiserver-etcd-client.crt, .key         the API server's client certificate to etcd
//   pki/kubelets/<node>.crt, .key               a kubelet's serving certificate (the API server's
//                                               --kubelet-certificate-authority verifies it)
//   pki/etcd/ca.crt, .key                       etcd's own CA ("etcd-ca")
//   pki/etcd/server.crt, .key, peer.crt, .key   etcd's serving and peer certificates
//   pki/sa.key, sa.pub                          the ServiceAccount token signing key pair (RSA 2048)
//   pki/encryption-config.yaml                  --encryption-provider-config: Secrets encrypted at rest
//   admin.conf                                  kubernetes-admin in system:masters
//   scheduler.conf, controller-manager.conf, kube-proxy.conf, kube-dns.conf
//   kubelet-<node>.conf                         system:node:<node> in system:nodes, one per node
//
// every kubeconfig embedding its client certificate, key and the CA. ensureClusterPki is
// idempotent, as kubeadm on a machine that already has its files: what exists and still fits is
// kept (so kubeconfigs handed out keep working across restarts), what is missing, expiring
// within RENEW_BEFORE_MS, signed by another CA or short of a name asked for now (a new SAN, a
// new server URL) is made again. A CA whose key is absent is an external CA: then nothing is
// signed, and every certificate must already exist and fit.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseKubeconfig, renderKubeconfig } from "../client/kubeconfig.js";
import { type CertKey, type CertSpec, certInfo, keyMatches, newCA, newCert, signedBy } from "./certs.js";
import { ensureEncryptionConfig } from "./encryption.js";
import { ensureServiceAccountKey } from "./sa-key.js";

export type { CertKey } from "./certs.js";

/** A certificate within this long of its NotAfter is renewed (kubeadm warns at 30 days). */
export const RENEW_BEFORE_MS = 30 * 24 * 3_600_000;

export const MASTERS_GROUP = "system:masters";
export const NODES_GROUP = "system:nodes";
export const ADMIN_USER = "kubernetes-admin";
export const SCHEDULER_USER = "system:kube-scheduler";
export const CONTROLLER_MANAGER_USER = "system:kube-controller-manager";
export const KUBE_PROXY_USER = "system:kube-proxy";
export const KUBE_DNS_USER = "system:kube-dns";
export const nodeUser = (node: string): string => `system:node:${node}`;

export interface ClusterPkiOptions {
  /** Where everything goes (kubeadm: /etc/kubernetes). */
  dir: string;
  /**
   * The API server's URL as the components reach it, written into every kubeconfig. Without it
   * only the certificates are made (a test harness that learns its port later writes its
   * kubeconfigs with writeUserKubeconfig).
   */
  server?: string;
  /** Names of the kubelets: one system:node:<name> certificate and kubeconfig each. */
  nodes: readonly string[];
  /**
   * More names and addresses the API server is reached at (a compose service name, the
   * advertise address), beside kubeadm's defaults: localhost, 127.0.0.1, kubernetes,
   * kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.<dnsDomain> and the
   * first IP of the service range.
   */
  apiserverSANs?: readonly string[];
  /** --service-cluster-ip-range (default 10.96.0.0/12): its first IP is the kubernetes Service's. */
  serviceClusterIPRange?: string;
  /** Cluster DNS domain (default cluster.local). */
  dnsDomain?: string;
  /**
   * Addresses every kubelet is reached at (its --node-ip), beside the node's name, localhost and
   * 127.0.0.1, for the kubelets' serving certificates.
   */
  kubeletSANs?: readonly string[];
  /** Host names of the etcd members (beside localhost and 127.0.0.1) for etcd's certificates. */
  etcdSANs?: readonly string[];
  /** The clock (tests). */
  now?: Date;
  /** Told what was made or kept, one line each (the launcher prints them). */
  report?: (line: string) => void;
}

/** Paths of what ensureClusterPki keeps (absolute when dir is). */
export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  apiserverEtcdClientCert: string;
  apiserverEtcdClientKey: string;
  etcdCACert: string;
  etcdServerCert: string;
  etcdServerKey: string;
  etcdPeerCert: string;
  etcdPeerKey: string;
  /** The API server's EncryptionConfiguration (pkg/pki/encryption.ts), mode 0600. */
  encryptionConfig: string;
  /** --service-account-signing-key-file (mode 0600) and --service-account-key-file (pkg/pki/sa-key.ts). */
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** Each kubelet's serving certificate and key (--tls-cert-file/--tls-private-key-file), by node name. */
  kubeletServing: Record<string, { cert: string; key: string }>;
  kubeconfigs: {
    admin: string;
    scheduler: string;
    controllerManager: string;
    kubeProxy: string;
    kubeDns: string;
    /** By node name. */
    kubelets: Record<string, string>;
  };
}

/** clusterPkiPaths: where ensureClusterPki puts everything (no file is read or written). */
export function clusterPkiPaths(dir: string, nodes: readonly string[]): ClusterPki {
  const pki = join(dir, "pki");
  return {
    dir,
    caCert: join(pki, "ca.crt"),
    caKey: join(pki, "ca.key"),
    apiserverCert: join(pki, "apiserver.crt"),
    apiserverKey: join(pki, "apiserver.key"),
    apiserverKubeletClientCert: join(pki, "apiserver-kubelet-client.crt"),
    apiserverKubeletClientKey: join(pki, "apiserver-kubelet-client.key"),
    apiserverEtcdClientCert: join(pki, "apiserver-etcd-client.crt"),
    apiserverEtcdClientKey: join(pki, "apiserver-etcd-client.key"),
    etcdCACert: join(pki, "etcd", "ca.crt"),
    etcdServerCert: join(pki, "etcd", "server.crt"),
    etcdServerKey: join(pki, "etcd", "server.key"),
    etcdPeerCert: join(pki, "etcd", "peer.crt"),
    etcdPeerKey: join(pki, "etcd", "peer.key"),
    encryptionConfig: join(pki, "encryption-config.yaml"),
    serviceAccountKey: join(pki, "sa.key"),
    serviceAccountPub: join(pki, "sa.pub"),
    kubeletServing: Object.fromEntries(
      nodes.map((n) => [n, { cert: join(pki, "kubelets", `${n}.crt`), key: join(pki, "kubelets", `${n}.key`) }]),
    ),
    kubeconfigs: {
      admin: join(dir, "admin.conf"),
      scheduler: join(dir, "scheduler.conf"),
      controllerManager: join(dir, "controller-manager.conf"),
      kubeProxy: join(dir, "kube-proxy.conf"),
      kubeDns: join(dir, "kube-dns.conf"),
      kubelets: Object.fromEntries(nodes.map((n) => [n, join(dir, `kubelet-${n}.conf`)])),
    },
  };
}

/** The first address of an IPv4 CIDR (10.96.0.0/12 -> 10.96.0.1): the kubernetes Service's ClusterIP. */
export function firstServiceIP(cidr: string): string {
  const [ip = "", bits = ""] = cidr.split("/");
  const parts = ip.split(".").map(Number);
  const size = Number(bits);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) || !(size >= 0 && size < 31))
    throw new Error(`invalid service cluster IP range ${JSON.stringify(cidr)}`);
  const n = parts.reduce((acc, p) => acc * 256 + p, 0);
  const block = 2 ** (32 - size);
  const first = n - (n % block) + 1;
  return [(first >>> 24) & 255, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join(".");
}

/** The API server's SANs: kubeadm's GetAPIServerAltNames plus loopback and the extra names. */
export function apiserverAltNames(
  o: Pick<ClusterPkiOptions, "apiserverSANs" | "serviceClusterIPRange" | "dnsDomain">,
): string[] {
  const domain = o.dnsDomain ?? "cluster.local";
  return [
    ...new Set([
      "localhost",
      "127.0.0.1",
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      `kubernetes.default.svc.${domain}`,
      firstServiceIP(o.serviceClusterIPRange ?? "10.96.0.0/12"),
      ...(o.apiserverSANs ?? []),
    ]),
  ];
}

/** A kubelet's serving certificate: its node name, loopback, and where it is reached. */
export function kubeletServingSpec(node: string, sans: readonly string[] = []): CertSpec {
  return {
    commonName: nodeUser(node),
    organizations: [NODES_GROUP],
    usages: ["serverAuth"],
    altNames: [...new Set([node, "localhost", "127.0.0.1", ...sans])],
  };
}

/** writeKubeletServingCert signs a kubelet's serving certificate with the CA (a harness's kubelets). */
export async function writeKubeletServingCert(o: {
  ca: CertKey;
  node: string;
  sans?: readonly string[];
  certPath: string;
  keyPath: string;
}): Promise<void> {
  const pair = await newCert(o.ca, kubeletServingSpec(o.node, o.sans));
  writeAtomic(o.keyPath, pair.key, 0o600);
  writeAtomic(o.certPath, pair.cert, 0o644);
}

function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

function readPair(certPath: string, keyPath: string): CertKey | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
}

/** Why an existing certificate no longer does for spec, or undefined when it does. */
function unfit(pair: CertKey, ca: CertKey, spec: CertSpec, now: Date): string | undefined {
  let info: ReturnType<typeof certInfo>;
  try {
    info = certInfo(pair.cert);
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
  if (!keyMatches(pair)) return "its key does not match";
  if (!signedBy(pair.cert, ca.cert)) return "signed by another CA";
  if (info.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return `expires ${info.notAfter.toISOString()}`;
  if (info.notBefore.getTime() > now.getTime()) return "not valid yet";
  if (info.commonName !== spec.commonName) return `CN is ${info.commonName}`;
  const orgs = [...(spec.organizations ?? [])];
  if (info.organizations.length !== orgs.length || orgs.some((o, i) => info.organizations[i] !== o))
    return `O is ${info.organizations.join(",")}`;
  if (spec.usages.some((u) => !info.usages.includes(u))) return `usages are ${info.usages.join(",")}`;
  const names = new Set([...info.dnsNames, ...info.ips]);
  const missing = (spec.altNames ?? []).filter((n) => !names.has(n));
  if (missing.length > 0) return `no SAN ${missing.join(", ")}`;
  return undefined;
}

interface CA {
  name: string;
  pair: CertKey;
  /** False for an external CA (no key): nothing may be signed with it. */
  canSign: boolean;
}

/** loadOrCreateCA: kubeadm's CreateTree for one CA. */
async function loadOrCreateCA(
  name: string,
  commonName: string,
  certPath: string,
  keyPath: string,
  o: ClusterPkiOptions,
): Promise<CA> {
  const report = o.report ?? (() => undefined);
  if (existsSync(certPath)) {
    const cert = readFileSync(certPath, "utf8");
    const info = certInfo(cert);
    if (!info.isCA) throw new Error(`certificate ${certPath} is not a CA`);
    if (!existsSync(keyPath)) {
      report(`[certs] using the external ${name} CA ${certPath} (no key: every certificate must exist already)`);
      return { name, pair: { cert, key: "" }, canSign: false };
    }
    const pair = { cert, key: readFileSync(keyPath, "utf8") };
    if (!keyMatches(pair)) throw new Error(`${keyPath} is not the key of ${certPath}`);
    if (info.notAfter.getTime() <= (o.now ?? new Date()).getTime())
      throw new Error(`the ${name} CA ${certPath} has expired`);
    report(`[certs] using the existing ${name} certificate authority ${certPath}`);
    return { name, pair, canSign: true };
  }
  const pair = await newCA(commonName, o.now ? { now: o.now } : {});
  writeAtomic(keyPath, pair.key, 0o600);
  writeAtomic(certPath, pair.cert, 0o644);
  report(`[certs] generated the ${name} certificate authority ${certPath}`);
  return { name, pair, canSign: true };
}

/** ensureCert keeps the pair at certPath/keyPath when it fits spec, else signs a new one. */
async function ensureCert(
  ca: CA,
  spec: CertSpec,
  certPath: string,
  keyPath: string,
  o: ClusterPkiOptions,
): Promise<void> {
  const now = o.now ?? new Date();
  const report = o.report ?? (() => undefined);
  const existing = readPair(certPath, keyPath);
  const why = existing ? unfit(existing, ca.pair, spec, now) : "missing";
  if (!why) {
    report(`[certs] using the existing ${spec.commonName} certificate ${certPath}`);
    return;
  }
  if (!ca.canSign) throw new Error(`${certPath} (${spec.commonName}): ${why}, and the ${ca.name} CA has no key`);
  const pair = await newCert(ca.pair, { ...spec, ...(o.now ? { now: o.now } : {}) });
  writeAtomic(keyPath, pair.key, 0o600);
  writeAtomic(certPath, pair.cert, 0o644);
  report(`[certs] generated ${spec.commonName} certificate ${certPath}${existing ? ` (${why})` : ""}`);
}

export interface KubeconfigUser {
  name: string;
  groups: readonly string[];
}

function clientSpec(user: KubeconfigUser): CertSpec {
  return { commonName: user.name, organizations: user.groups, usages: ["clientAuth"] };
}

/**
 * writeUserKubeconfig signs a client certificate for the user with the CA and writes a
 * kubeconfig holding it (kubeadm's names: cluster "kubernetes", context "<user>@kubernetes").
 */
export async function writeUserKubeconfig(o: {
  ca: CertKey;
  path: string;
  server: string;
  user: KubeconfigUser;
  now?: Date;
}): Promise<void> {
  const clientCert = await newCert(o.ca, { ...clientSpec(o.user), ...(o.now ? { now: o.now } : {}) });
  const text = renderKubeconfig({
    server: o.server,
    caPem: o.ca.cert,
    clientCert,
    clusterName: "kubernetes",
    userName: o.user.name,
    contextName: `${o.user.name}@kubernetes`,
  });
  writeAtomic(o.path, text, 0o600);
}

/** ensureKubeconfig keeps a kubeconfig whose server, CA and client certificate still fit, else writes one. */
async function ensureKubeconfig(
  ca: CA,
  path: string,
  server: string,
  user: KubeconfigUser,
  o: ClusterPkiOptions,
): Promise<void> {
  const now = o.now ?? new Date();
  const report = o.report ?? (() => undefined);
  let why = "missing";
  if (existsSync(path)) {
    try {
      const c = parseKubeconfig(readFileSync(path, "utf8"), { source: path });
      if (c.server !== server.replace(/\/+$/, "")) why = `server is ${c.server}`;
      else if (c.caPem !== ca.pair.cert) why = "another CA";
      else if (!c.certPem || !c.keyPem) why = "no client certificate";
      else why = unfit({ cert: c.certPem, key: c.keyPem }, ca.pair, clientSpec(user), now) ?? "";
    } catch (err) {
      why = (err as Error).message;
    }
  }
  if (!why) {
    report(`[kubeconfig] using the existing ${path}`);
    return;
  }
  if (!ca.canSign) throw new Error(`${path}: ${why}, and the CA has no key to sign a new client certificate`);
  await writeUserKubeconfig({ ca: ca.pair, path, server, user, ...(o.now ? { now: o.now } : {}) });
  report(`[kubeconfig] wrote ${path} (${user.name}${why === "missing" ? "" : `; ${why}`})`);
}

/** ensureClusterPki makes (or keeps) the whole PKI under o.dir; see the header. */
export async function ensureClusterPki(o: ClusterPkiOptions): Promise<ClusterPki> {
  for (const n of o.nodes) {
    // A node name is a DNS-1123 subdomain (and so a safe file name).
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(n) || n.length > 253)
      throw new Error(`invalid node name ${JSON.stringify(n)}: want a DNS-1123 subdomain`);
  }
  const p = clusterPkiPaths(o.dir, o.nodes);
  mkdirSync(join(o.dir, "pki", "etcd"), { recursive: true, mode: 0o755 });

  const ca = await loadOrCreateCA("kubernetes", "kubernetes", p.caCert, p.caKey, o);
  await ensureCert(
    ca,
    { commonName: "kube-apiserver", usages: ["serverAuth"], altNames: apiserverAltNames(o) },
    p.apiserverCert,
    p.apiserverKey,
    o,
  );
  await ensureCert(
    ca,
    { commonName: "kube-apiserver-kubelet-client", organizations: [MASTERS_GROUP], usages: ["clientAuth"] },
    p.apiserverKubeletClientCert,
    p.apiserverKubeletClientKey,
    o,
  );

  for (const node of o.nodes) {
    const pair = p.kubeletServing[node] as { cert: string; key: string };
    await ensureCert(ca, kubeletServingSpec(node, o.kubeletSANs), pair.cert, pair.key, o);
  }

  // etcd has a CA of its own, as kubeadm's: a certificate the cluster CA signed (a kubelet's, an
  // admin's) must not open etcd.
  const etcdCA = await loadOrCreateCA("etcd", "etcd-ca", p.etcdCACert, join(o.dir, "pki", "etcd", "ca.key"), o);
  const etcdNames = [...new Set(["localhost", "127.0.0.1", "::1", ...(o.etcdSANs ?? [])])];
  // Server and peer certificates carry clientAuth too: etcd uses them as clients of its own members.
  await ensureCert(
    etcdCA,
    { commonName: "kube-etcd", usages: ["serverAuth", "clientAuth"], altNames: etcdNames },
    p.etcdServerCert,
    p.etcdServerKey,
    o,
  );
  await ensureCert(
    etcdCA,
    { commonName: "kube-etcd-peer", usages: ["serverAuth", "clientAuth"], altNames: etcdNames },
    p.etcdPeerCert,
    p.etcdPeerKey,
    o,
  );
  await ensureCert(
    etcdCA,
    { commonName: "kube-apiserver-etcd-client", organizations: [MASTERS_GROUP], usages: ["clientAuth"] },
    p.apiserverEtcdClientCert,
    p.apiserverEtcdClientKey,
    o,
  );

  ensureServiceAccountKey(p.serviceAccountKey, p.serviceAccountPub, o.report);
  ensureEncryptionConfig(p.encryptionConfig, o.report);

  if (o.server) {
    const server = o.server;
    const k = p.kubeconfigs;
    await ensureKubeconfig(ca, k.admin, server, { name: ADMIN_USER, groups: [MASTERS_GROUP] }, o);
    await ensureKubeconfig(ca, k.scheduler, server, { name: SCHEDULER_USER, groups: [] }, o);
    await ensureKubeconfig(ca, k.controllerManager, server, { name: CONTROLLER_MANAGER_USER, groups: [] }, o);
    await ensureKubeconfig(ca, k.kubeProxy, server, { name: KUBE_PROXY_USER, groups: [] }, o);
    await ensureKubeconfig(ca, k.kubeDns, server, { name: KUBE_DNS_USER, groups: [] }, o);
    for (const node of o.nodes) {
      await ensureKubeconfig(
        ca,
        k.kubelets[node] as string,
        server,
        { name: nodeUser(node), groups: [NODES_GROUP] },
        o,
      );
    }
  }
  return p;
}

/** readCA reads the cluster CA's certificate and key (to sign more client certificates). */
export function readCA(p: Pick<ClusterPki, "caCert" | "caKey">): CertKey {
  return { cert: readFileSync(p.caCert, "utf8"), key: readFileSync(p.caKey, "utf8") };
}

/**
 * exportComponent copies what one component needs, and nothing else, into dir: so that each
 * container mounts only its own credentials (compose has no per-file mounts of a volume).
 *   etcd                                       ca.crt, server.crt/.key, peer.crt/.key
 *   scheduler | controller-manager             kubeconfig, ca.crt (the secure port's --client-ca-file)
 *   kubelet:<node>                             kubeconfig, ca.crt, kubelet.crt/.key (its serving pair)
 *   admin | kube-proxy | kube-dns              kubeconfig
 */
export function isExportComponent(component: string): boolean {
  return (
    ["etcd", "admin", "scheduler", "controller-manager", "kube-proxy", "kube-dns"].includes(component) ||
    /^kubelet:[a-z0-9]/.test(component)
  );
}

export function exportComponent(p: ClusterPki, component: string, dir: string): string[] {
  const files: Array<[from: string, to: string, mode: number]> = [];
  const kubeconfig = (from: string | undefined) => {
    if (!from) throw new Error(`no kubeconfig for ${component}`);
    files.push([from, "kubeconfig", 0o600]);
  };
  if (component === "etcd") {
    files.push(
      [p.etcdCACert, "ca.crt", 0o644],
      [p.etcdServerCert, "server.crt", 0o644],
      [p.etcdServerKey, "server.key", 0o600],
      [p.etcdPeerCert, "peer.crt", 0o644],
      [p.etcdPeerKey, "peer.key", 0o600],
    );
  } else if (component === "admin") kubeconfig(p.kubeconfigs.admin);
  else if (component === "scheduler") {
    kubeconfig(p.kubeconfigs.scheduler);
    files.push([p.caCert, "ca.crt", 0o644]);
  } else if (component === "controller-manager") {
    kubeconfig(p.kubeconfigs.controllerManager);
    files.push([p.caCert, "ca.crt", 0o644]);
  } else if (component === "kube-proxy") kubeconfig(p.kubeconfigs.kubeProxy);
  else if (component === "kube-dns") kubeconfig(p.kubeconfigs.kubeDns);
  else if (component.startsWith("kubelet:")) {
    const node = component.slice("kubelet:".length);
    kubeconfig(p.kubeconfigs.kubelets[node]);
    const serving = p.kubeletServing[node];
    if (!serving) throw new Error(`no serving certificate for ${component}`);
    files.push([p.caCert, "ca.crt", 0o644], [serving.cert, "kubelet.crt", 0o644], [serving.key, "kubelet.key", 0o600]);
  } else
    throw new Error(
      `unknown component ${JSON.stringify(component)}: want etcd, admin, scheduler, controller-manager, kube-proxy, kube-dns or kubelet:<node>`,
    );
  return files.map(([from, to, mode]) => {
    const dest = join(dir, to);
    writeAtomic(dest, readFileSync(from, "utf8"), mode);
    return dest;
  });
}
