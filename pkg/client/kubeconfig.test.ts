import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";
import { loadKubeconfig, parseKubeconfig, writeKubeconfig } from "./kubeconfig.js";

const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

test("writeKubeconfig writes kubectl's format with mode 0600 and reads back", () => {
  const path = join(dir, "sub", "config");
  writeKubeconfig(path, { server: "https://127.0.0.1:6443", token: "tok", caPem: CA, namespace: "prod", name: "c1" });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const doc = parse(readFileSync(path, "utf8"));
  assert.equal(doc.kind, "Config");
  assert.equal(doc["current-context"], "c1");
  assert.equal(doc.clusters[0].cluster.server, "https://127.0.0.1:6443");
  assert.equal(Buffer.from(doc.clusters[0].cluster["certificate-authority-data"], "base64").toString(), CA);
  assert.equal(doc.users[0].user.token, "tok");
  assert.deepEqual(loadKubeconfig({ path }), {
    server: "https://127.0.0.1:6443",
    token: "tok",
    caPem: CA,
    namespace: "prod",
  });
});

test("contexts, tokenFile and certificate-authority files resolve relative to the kubeconfig", () => {
  writeFileSync(join(dir, "ca.crt"), CA);
  writeFileSync(join(dir, "token"), "from-file\n");
  const text = `
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: { server: "https://a:1/", certificate-authority: ca.crt }
- name: b
  cluster: { server: "http://b:2", insecure-skip-tls-verify: true }
users:
- name: ua
  user: { tokenFile: token }
- name: ub
  user: { token: tb }
contexts:
- name: ca
  context: { cluster: a, user: ua }
- name: cb
  context: { cluster: b, user: ub, namespace: nsb }
current-context: ca
`;
  const path = join(dir, "multi");
  writeFileSync(path, text);
  assert.deepEqual(loadKubeconfig({ path }), { server: "https://a:1", caPem: CA, token: "from-file" });
  assert.deepEqual(loadKubeconfig({ path, context: "cb" }), {
    server: "http://b:2",
    insecureSkipTLSVerify: true,
    token: "tb",
    namespace: "nsb",
  });
  assert.throws(() => loadKubeconfig({ path, context: "zz" }), /context "zz" not found/);
});

test("KUBECONFIG picks the first existing file of the list", () => {
  const path = join(dir, "env-config");
  writeKubeconfig(path, { server: "https://env:1", token: "t" });
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = `${join(dir, "missing")}:${path}`;
  try {
    assert.equal(loadKubeconfig().server, "https://env:1");
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});

test("a missing current-context is an error naming the file", () => {
  assert.throws(() => parseKubeconfig("clusters: []\n", { source: "/x/config" }), /\/x\/config: no current-context/);
});

test("client certificates: embedded data and files relative to the kubeconfig, kubeadm's names", () => {
  const cert = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
  const key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";
  const path = join(dir, "admin.conf");
  writeKubeconfig(path, {
    server: "https://127.0.0.1:6443",
    caPem: CA,
    clientCert: { cert, key },
    clusterName: "kubernetes",
    userName: "kubernetes-admin",
    contextName: "kubernetes-admin@kubernetes",
  });
  const doc = parse(readFileSync(path, "utf8"));
  assert.equal(doc["current-context"], "kubernetes-admin@kubernetes");
  assert.deepEqual(doc.contexts[0].context, { cluster: "kubernetes", user: "kubernetes-admin" });
  assert.equal(doc.users[0].user.token, undefined);
  assert.equal(Buffer.from(doc.users[0].user["client-key-data"], "base64").toString(), key);
  assert.deepEqual(loadKubeconfig({ path }), {
    server: "https://127.0.0.1:6443",
    caPem: CA,
    certPem: cert,
    keyPem: key,
  });

  writeFileSync(join(dir, "client.crt"), cert);
  writeFileSync(join(dir, "client.key"), key);
  const files = join(dir, "files.conf");
  writeFileSync(
    files,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://x:1" } }]
users: [{ name: u, user: { client-certificate: client.crt, client-key: client.key } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  assert.deepEqual(loadKubeconfig({ path: files }), { server: "https://x:1", certPem: cert, keyPem: key });
});
