import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { certInfo, signedBy } from "./certs.js";
import {
  apiserverAltNames,
  type ClusterPkiOptions,
  ensureClusterPki,
  exportComponent,
  firstServiceIP,
  isExportComponent,
  readCA,
  writeUserKubeconfig,
} from "./cluster.js";

const root = mkdtempSync(join(tmpdir(), "cluster-pki-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);

const base = (dir: string): ClusterPkiOptions => ({
  dir,
  server: "https://apiserver:6443",
  nodes: ["node-1", "node-2"],
  apiserverSANs: ["apiserver"],
  etcdSANs: ["etcd", "etcd-2"],
});

test("firstServiceIP and the API server's names", () => {
  assert.equal(firstServiceIP("10.96.0.0/12"), "10.96.0.1");
  assert.equal(firstServiceIP("10.100.7.9/16"), "10.100.0.1");
  assert.throws(() => firstServiceIP("fd00::/108"), /invalid service cluster IP range/);
  assert.deepEqual(apiserverAltNames({ apiserverSANs: ["apiserver", "localhost"], dnsDomain: "example.org" }), [
    "localhost",
    "127.0.0.1",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.example.org",
    "10.96.0.1",
    "apiserver",
  ]);
});

test("kubeadm's layout: CA, serving certificate, etcd's own CA, a kubeconfig per identity", async () => {
  const lines: string[] = [];
  const p = await ensureClusterPki({ ...base(freshDir()), report: (l) => lines.push(l) });
  const ca = readFileSync(p.caCert, "utf8");
  assert.ok(certInfo(ca).isCA);
  assert.equal(certInfo(ca).commonName, "kubernetes");
  assert.equal(statSync(p.caKey).mode & 0o777, 0o600);
  assert.equal(statSync(p.encryptionConfig).mode & 0o777, 0o600, "the encryption key is a secret too");
  assert.equal(statSync(p.serviceAccountKey).mode & 0o777, 0o600, "so is the token signing key");
  assert.match(readFileSync(p.serviceAccountPub, "utf8"), /^-----BEGIN PUBLIC KEY-----/);

  const serving = certInfo(readFileSync(p.apiserverCert, "utf8"));
  assert.equal(serving.commonName, "kube-apiserver");
  assert.deepEqual(serving.usages, ["serverAuth"]);
  assert.deepEqual(serving.dnsNames.sort(), [
    "apiserver",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
  ]);
  assert.deepEqual(serving.ips, ["127.0.0.1", "10.96.0.1"]);
  assert.ok(signedBy(readFileSync(p.apiserverCert, "utf8"), ca));
  const validity = serving.notAfter.getTime() - Date.now();
  assert.ok(validity > 364 * 86_400_000 && validity <= 365 * 86_400_000, "one year");
  assert.ok(certInfo(ca).notAfter.getTime() - Date.now() > 9.9 * 365 * 86_400_000, "the CA: ten years");

  const kubeletClient = certInfo(readFileSync(p.apiserverKubeletClientCert, "utf8"));
  assert.deepEqual(
    [kubeletClient.commonName, kubeletClient.organizations],
    ["kube-apiserver-kubelet-client", ["system:masters"]],
  );

  // etcd trusts only its own CA: nothing the cluster CA signed opens it.
  const etcdCA = readFileSync(p.etcdCACert, "utf8");
  assert.notEqual(etcdCA, ca);
  for (const cert of [p.etcdServerCert, p.etcdPeerCert, p.apiserverEtcdClientCert]) {
    const pem = readFileSync(cert, "utf8");
    assert.ok(signedBy(pem, etcdCA), cert);
    assert.ok(!signedBy(pem, ca), cert);
  }
  const etcdServer = certInfo(readFileSync(p.etcdServerCert, "utf8"));
  assert.deepEqual(etcdServer.usages, ["serverAuth", "clientAuth"]);
  assert.deepEqual(etcdServer.dnsNames, ["localhost", "etcd", "etcd-2"]);
  assert.deepEqual(etcdServer.ips, ["127.0.0.1", "::1"]);
  assert.equal(certInfo(readFileSync(p.apiserverEtcdClientCert, "utf8")).commonName, "kube-apiserver-etcd-client");

  const identities: Array<[string, string, string[]]> = [
    [p.kubeconfigs.admin, "kubernetes-admin", ["system:masters"]],
    [p.kubeconfigs.scheduler, "system:kube-scheduler", []],
    [p.kubeconfigs.controllerManager, "system:kube-controller-manager", []],
    [p.kubeconfigs.kubeProxy, "system:kube-proxy", []],
    [p.kubeconfigs.kubelets["node-1"] as string, "system:node:node-1", ["system:nodes"]],
    [p.kubeconfigs.kubelets["node-2"] as string, "system:node:node-2", ["system:nodes"]],
  ];
  for (const [path, user, groups] of identities) {
    const c = loadKubeconfig({ path });
    assert.equal(c.server, "https://apiserver:6443");
    assert.equal(c.caPem, ca);
    assert.equal(c.token, undefined);
    const info = certInfo(c.certPem as string);
    assert.deepEqual([info.commonName, info.organizations, info.usages], [user, groups, ["clientAuth"]], path);
    assert.ok(signedBy(c.certPem as string, ca));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }
  assert.ok(lines.some((l) => /generated the kubernetes certificate authority/.test(l)));
});

test("a second start keeps what fits and remakes only what does not", async () => {
  const dir = freshDir();
  const p = await ensureClusterPki(base(dir));
  const snapshot = (path: string) => readFileSync(path, "utf8");
  const before = {
    ca: snapshot(p.caCert),
    serving: snapshot(p.apiserverCert),
    admin: snapshot(p.kubeconfigs.admin),
    node1: snapshot(p.kubeconfigs.kubelets["node-1"] as string),
    etcd: snapshot(p.etcdServerCert),
    encryption: snapshot(p.encryptionConfig),
    sa: snapshot(p.serviceAccountKey),
  };
  const again = await ensureClusterPki(base(dir));
  assert.equal(snapshot(again.caCert), before.ca);
  assert.equal(snapshot(again.encryptionConfig), before.encryption, "the key that encrypted what is stored is kept");
  assert.equal(snapshot(again.serviceAccountKey), before.sa, "tokens already issued stay valid");
  assert.equal(snapshot(again.apiserverCert), before.serving);
  assert.equal(snapshot(again.kubeconfigs.admin), before.admin);

  // A new SAN remakes the serving certificate only; a new node adds its kubeconfig.
  const grown = await ensureClusterPki({
    ...base(dir),
    apiserverSANs: ["apiserver", "10.0.0.5"],
    nodes: ["node-1", "node-3"],
  });
  assert.notEqual(snapshot(grown.apiserverCert), before.serving);
  assert.ok(certInfo(snapshot(grown.apiserverCert)).ips.includes("10.0.0.5"));
  assert.equal(snapshot(grown.caCert), before.ca);
  assert.equal(snapshot(grown.kubeconfigs.kubelets["node-1"] as string), before.node1);
  assert.equal(
    certInfo(loadKubeconfig({ path: grown.kubeconfigs.kubelets["node-3"] as string }).certPem as string).commonName,
    "system:node:node-3",
  );

  // Another server URL rewrites the kubeconfigs.
  const moved = await ensureClusterPki({ ...base(dir), server: "https://127.0.0.1:7443" });
  assert.equal(loadKubeconfig({ path: moved.kubeconfigs.admin }).server, "https://127.0.0.1:7443");

  // Eleven months on, every leaf (within 30 days of its end) is renewed; the CA is kept.
  const later = new Date(Date.now() + 340 * 86_400_000);
  const renewed = await ensureClusterPki({ ...base(dir), server: "https://127.0.0.1:7443", now: later });
  assert.equal(snapshot(renewed.caCert), before.ca);
  assert.notEqual(snapshot(renewed.etcdServerCert), before.etcd);
  const adminCert = certInfo(loadKubeconfig({ path: renewed.kubeconfigs.admin }).certPem as string);
  assert.ok(adminCert.notAfter.getTime() > later.getTime() + 300 * 86_400_000);
});

test("an external CA (no key): everything must exist and fit; nothing can be signed", async () => {
  const dir = freshDir();
  const p = await ensureClusterPki(base(dir));
  unlinkSync(p.caKey);
  await ensureClusterPki(base(dir));
  await assert.rejects(
    ensureClusterPki({ ...base(dir), apiserverSANs: ["elsewhere"] }),
    /apiserver\.crt \(kube-apiserver\): no SAN elsewhere, and the kubernetes CA has no key/,
  );
});

test("node names must be DNS-1123 subdomains; certificates only without a server", async () => {
  await assert.rejects(ensureClusterPki({ ...base(freshDir()), nodes: ["../x"] }), /invalid node name "..\/x"/);
  const dir = freshDir();
  const p = await ensureClusterPki({ dir, nodes: [] });
  assert.ok(certInfo(readFileSync(p.apiserverCert, "utf8")).dnsNames.includes("kubernetes.default.svc"));
  assert.throws(() => statSync(p.kubeconfigs.admin), /ENOENT/);
  const path = join(dir, "jane.conf");
  await writeUserKubeconfig({
    ca: readCA(p),
    path,
    server: "https://127.0.0.1:1",
    user: { name: "jane", groups: ["dev"] },
  });
  const c = loadKubeconfig({ path });
  assert.deepEqual(certInfo(c.certPem as string).organizations, ["dev"]);
});

test("a serving certificate per kubelet, signed by the cluster CA, for its name and addresses", async () => {
  const p = await ensureClusterPki({ ...base(freshDir()), kubeletSANs: ["172.18.0.1"] });
  const ca = readFileSync(p.caCert, "utf8");
  const pair = p.kubeletServing["node-1"] as { cert: string; key: string };
  const cert = readFileSync(pair.cert, "utf8");
  assert.ok(signedBy(cert, ca));
  const info = certInfo(cert);
  assert.equal(info.commonName, "system:node:node-1");
  assert.deepEqual(info.organizations, ["system:nodes"]);
  assert.deepEqual(info.usages, ["serverAuth"]);
  assert.deepEqual(info.dnsNames.sort(), ["localhost", "node-1"]);
  assert.deepEqual(info.ips.sort(), ["127.0.0.1", "172.18.0.1"]);
  assert.equal(statSync(pair.key).mode & 0o777, 0o600);
  // Kept on the next run, made again for a new address.
  const again = await ensureClusterPki({ ...base(p.dir), kubeletSANs: ["172.18.0.1"] });
  assert.equal(readFileSync((again.kubeletServing["node-1"] as { cert: string }).cert, "utf8"), cert);
  const moved = await ensureClusterPki({ ...base(p.dir), kubeletSANs: ["172.19.0.1"] });
  assert.ok(
    certInfo(readFileSync((moved.kubeletServing["node-1"] as { cert: string }).cert, "utf8")).ips.includes(
      "172.19.0.1",
    ),
  );
});

test("exportComponent copies one component's files only", async () => {
  const dir = freshDir();
  const p = await ensureClusterPki(base(dir));
  const out = join(dir, "out");
  assert.deepEqual(
    exportComponent(p, "etcd", join(out, "etcd")).map((f) => f.slice(out.length + 1)),
    ["etcd/ca.crt", "etcd/server.crt", "etcd/server.key", "etcd/peer.crt", "etcd/peer.key"],
  );
  assert.equal(statSync(join(out, "etcd", "server.key")).mode & 0o777, 0o600);
  const kubelet = exportComponent(p, "kubelet:node-2", join(out, "node-2"));
  assert.deepEqual(
    kubelet.map((f) => f.slice(out.length + 1)),
    ["node-2/kubeconfig", "node-2/ca.crt", "node-2/kubelet.crt", "node-2/kubelet.key"],
  );
  assert.equal(
    certInfo(loadKubeconfig({ path: kubelet[0] as string }).certPem as string).commonName,
    "system:node:node-2",
  );
  assert.equal(statSync(join(out, "node-2", "kubelet.key")).mode & 0o777, 0o600);
  assert.deepEqual(
    exportComponent(p, "scheduler", join(out, "scheduler")).map((f) => f.slice(out.length + 1)),
    ["scheduler/kubeconfig", "scheduler/ca.crt"],
  );
  assert.throws(() => exportComponent(p, "kubelet:node-9", out), /no kubeconfig for kubelet:node-9/);
  assert.throws(() => exportComponent(p, "apiserver", out), /unknown component "apiserver"/);
  assert.ok(isExportComponent("scheduler") && !isExportComponent("x"));
});
