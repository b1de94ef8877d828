import assert from "node:assert/strict";
import { webcrypto, X509Certificate } from "node:crypto";
import { test } from "node:test";
import * as x509 from "@peculiar/x509";
import {
  BACKDATE_MS,
  CA_VALIDITY_MS,
  CERT_VALIDITY_MS,
  certInfo,
  firstPem,
  keyMatches,
  newCA,
  newCert,
  newSelfSigned,
  signedBy,
} from "./certs.js";

test("newCA: a self-signed CA valid ten years, backdated five minutes", async () => {
  const now = new Date("2030-01-01T00:00:00Z");
  const ca = await newCA("kubernetes", { now });
  const info = certInfo(ca.cert);
  assert.equal(info.commonName, "kubernetes");
  assert.ok(info.isCA);
  assert.equal(info.notBefore.getTime(), now.getTime() - BACKDATE_MS);
  assert.equal(info.notAfter.getTime(), now.getTime() + CA_VALIDITY_MS);
  assert.ok(signedBy(ca.cert, ca.cert));
  assert.ok(keyMatches(ca));
  assert.match(ca.key, /^-----BEGIN PRIVATE KEY-----/);
  const x = new X509Certificate(ca.cert);
  assert.ok(x.ca);
  assert.match(x.keyUsage?.join(",") ?? "", /^$/, "no extended key usage on the CA");
});

test("newCert: CN is the user, every O a group; usages, SANs and one year's validity", async () => {
  const ca = await newCA("kubernetes");
  const now = new Date("2031-06-01T12:00:00Z");
  const c = await newCert(ca, {
    commonName: "system:node:node-1",
    organizations: ["system:nodes", "a,b+c"],
    usages: ["clientAuth"],
    now,
  });
  const info = certInfo(c.cert);
  assert.equal(info.commonName, "system:node:node-1");
  assert.deepEqual(info.organizations, ["system:nodes", "a,b+c"]);
  assert.deepEqual(info.usages, ["clientAuth"]);
  assert.ok(!info.isCA);
  assert.equal(info.notAfter.getTime() - info.notBefore.getTime(), CERT_VALIDITY_MS + BACKDATE_MS);
  assert.deepEqual([info.dnsNames, info.ips], [[], []]);
  assert.ok(signedBy(c.cert, ca.cert));
  assert.ok(keyMatches(c));
  assert.ok(!keyMatches({ cert: c.cert, key: ca.key }));
  const other = await newCA("other");
  assert.ok(!signedBy(c.cert, other.cert));

  const serving = await newCert(ca, {
    commonName: "kube-apiserver",
    usages: ["serverAuth"],
    altNames: ["kubernetes.default.svc", "127.0.0.1", "10.96.0.1", "::1", "localhost", "localhost"],
  });
  const s = certInfo(serving.cert);
  assert.deepEqual(s.dnsNames, ["kubernetes.default.svc", "localhost"]);
  assert.deepEqual(s.ips, ["127.0.0.1", "10.96.0.1", "::1"]);
  const x = new X509Certificate(serving.cert);
  assert.ok(x.checkHost("kubernetes.default.svc"));
  assert.ok(x.checkIP("10.96.0.1"));
  assert.ok(x.verify(new X509Certificate(ca.cert).publicKey));
  assert.deepEqual(x.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
});

test("newCert signs with an RSA CA key too (a CA brought from elsewhere, kubeadm's default)", async () => {
  const keys = (await webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as webcrypto.CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=rsa-ca",
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const ca = { cert: caCert.toString("pem"), key: x509.PemConverter.encode(der, "PRIVATE KEY") };
  const c = await newCert(ca, { commonName: "x", usages: ["clientAuth"] });
  assert.ok(signedBy(c.cert, ca.cert));
  assert.equal(new X509Certificate(c.cert).issuer, "CN=rsa-ca");
});

test("newSelfSigned: its own CA, for the standalone API server", async () => {
  const s = await newSelfSigned({ commonName: "kubeling-apiserver", altNames: ["localhost", "127.0.0.1"] });
  const info = certInfo(s.cert);
  assert.ok(info.isCA);
  assert.deepEqual(info.usages, ["serverAuth", "clientAuth"]);
  assert.ok(signedBy(s.cert, s.cert));
});

test("firstPem takes the leaf of a bundle", async () => {
  const ca = await newCA("kubernetes");
  const c = await newCert(ca, { commonName: "leaf", usages: ["clientAuth"] });
  assert.equal(certInfo(`${c.cert}${ca.cert}`).commonName, "leaf");
  assert.equal(firstPem(`${c.cert}${ca.cert}`), c.cert);
  assert.throws(() => firstPem("nothing"), /no PEM certificate/);
});
