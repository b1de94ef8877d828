import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { buildCommand, parseFlags } from "./flags.js";
import { generateSelfSigned } from "./tls.js";

test("parseFlags: upstream flag names and defaults", () => {
  const o = parseFlags(["node", "main", "--etcd-servers=http://a:1,http://b:2", "--secure-port=0"]);
  assert.deepEqual(o.etcdServers, ["http://a:1", "http://b:2"]);
  assert.equal(o.etcdPrefix, "/registry");
  assert.equal(o.securePort, 0);
  assert.deepEqual(o.bindAddresses, ["0.0.0.0"]);
  assert.deepEqual(
    parseFlags(["node", "main", "--bind-address=127.0.0.1, 10.213.64.1,127.0.0.1"]).bindAddresses,
    ["127.0.0.1", "10.213.64.1"],
    "kubeling: several addresses, each once",
  );
  assert.equal(o.etcdCompactionIntervalMs, 300_000);
  assert.equal(o.serviceClusterIPRange, "10.96.0.0/12");
  assert.equal(o.encryptionProviderConfig, undefined, "nothing is encrypted unless a configuration is given");
  assert.equal(
    parseFlags(["node", "main", "--encryption-provider-config=/etc/enc.yaml"]).encryptionProviderConfig,
    "/etc/enc.yaml",
  );
  const help = buildCommand().helpInformation();
  for (const f of [
    "--etcd-servers",
    "--token-auth-file",
    "--write-kubeconfig",
    "--cert-dir",
    "--encryption-provider-config",
    "KUBELING_ETCD_SERVERS",
  ]) {
    assert.ok(help.includes(f), `--help mentions ${f}`);
  }
});

test("service account flags: upstream's names, repeatable issuers and key files, audiences default to the issuers", () => {
  const d = parseFlags(["node", "main"]);
  assert.deepEqual(d.serviceAccountIssuers, ["https://kubernetes.default.svc.cluster.local"]);
  assert.deepEqual(d.apiAudiences, ["https://kubernetes.default.svc.cluster.local"]);
  assert.deepEqual(d.serviceAccountKeyFiles, []);
  assert.equal(d.serviceAccountSigningKeyFile, undefined, "generated in --cert-dir");
  assert.equal(d.serviceAccountMaxTokenExpirationSeconds, 0);
  assert.equal(d.serviceAccountExtendTokenExpiration, true);
  const o = parseFlags([
    "node",
    "main",
    "--service-account-issuer=https://a",
    "--service-account-issuer=https://b",
    "--service-account-signing-key-file=/k/sa.key",
    "--service-account-key-file=/k/sa.pub",
    "--service-account-key-file=/k/old.pub",
    "--service-account-max-token-expiration=24h",
    "--service-account-extend-token-expiration=false",
    "--service-account-jwks-uri=https://a/keys",
  ]);
  assert.deepEqual(o.serviceAccountIssuers, ["https://a", "https://b"]);
  assert.deepEqual(o.apiAudiences, ["https://a", "https://b"]);
  assert.deepEqual(o.serviceAccountKeyFiles, ["/k/sa.pub", "/k/old.pub"]);
  assert.equal(o.serviceAccountSigningKeyFile, "/k/sa.key");
  assert.equal(o.serviceAccountMaxTokenExpirationSeconds, 86400);
  assert.equal(o.serviceAccountExtendTokenExpiration, false);
  assert.equal(o.serviceAccountJWKSURI, "https://a/keys");
  assert.deepEqual(parseFlags(["node", "main", "--api-audiences=x,y", "--api-audiences=z"]).apiAudiences, [
    "x",
    "y",
    "z",
  ]);
  const help = buildCommand().helpInformation();
  for (const f of ["--service-account-issuer", "--service-account-signing-key-file", "--api-audiences"]) {
    assert.ok(help.includes(f), `--help mentions ${f}`);
  }
});

test("self-signed serving cert covers the API server's names", async () => {
  const { cert } = await generateSelfSigned(["localhost", "127.0.0.1", "kubernetes.default.svc"]);
  const x = new X509Certificate(cert);
  assert.ok(x.checkHost("localhost"));
  assert.ok(x.checkHost("kubernetes.default.svc"));
  assert.ok(x.checkIP("127.0.0.1"));
  assert.ok(x.ca, "marked as a CA so clients can trust it as its own root");
});

test("parseFlags: authentication and etcd TLS flags, named as upstream's", () => {
  const o = parseFlags([
    "node",
    "main",
    "--etcd-servers=https://etcd:2379",
    "--etcd-cafile=/pki/etcd/ca.crt",
    "--etcd-certfile=/pki/apiserver-etcd-client.crt",
    "--etcd-keyfile=/pki/apiserver-etcd-client.key",
    "--client-ca-file=/pki/ca.crt",
    "--anonymous-auth=false",
  ]);
  assert.equal(o.etcdCAFile, "/pki/etcd/ca.crt");
  assert.equal(o.etcdCertFile, "/pki/apiserver-etcd-client.crt");
  assert.equal(o.etcdKeyFile, "/pki/apiserver-etcd-client.key");
  assert.equal(o.clientCAFile, "/pki/ca.crt");
  assert.equal(o.anonymousAuth, false);
  assert.equal(parseFlags(["node", "main"]).anonymousAuth, true, "upstream's default");
  assert.deepEqual(parseFlags(["node", "main"]).authorizationModes, ["Node", "RBAC"], "kubeadm's default");
  const help = buildCommand().helpInformation();
  for (const f of ["--etcd-cafile", "--etcd-certfile", "--etcd-keyfile", "--client-ca-file", "--anonymous-auth"]) {
    assert.ok(help.includes(f), `--help mentions ${f}`);
  }
});
