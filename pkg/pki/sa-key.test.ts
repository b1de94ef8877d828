import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ensureServiceAccountKey, publicKeyPem } from "./sa-key.js";

const dir = mkdtempSync(join(tmpdir(), "sa-key-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("kubeadm's sa.key (RSA 2048, PKCS#1) and sa.pub (PKIX), kept once made", () => {
  const key = join(dir, "pki", "sa.key");
  const pub = join(dir, "pki", "sa.pub");
  const lines: string[] = [];
  assert.equal(
    ensureServiceAccountKey(key, pub, (l) => lines.push(l)),
    true,
  );
  const keyPem = readFileSync(key, "utf8");
  assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.equal(createPrivateKey(keyPem).asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.match(readFileSync(pub, "utf8"), /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal(readFileSync(pub, "utf8"), publicKeyPem(keyPem));
  assert.match(lines[0] ?? "", /generated the "sa" key/);

  // Kept: the same key on the next start; a lost or wrong sa.pub is written again from it.
  unlinkSync(pub);
  assert.equal(ensureServiceAccountKey(key, pub), false);
  assert.equal(readFileSync(key, "utf8"), keyPem);
  writeFileSync(pub, createPublicKey(createPrivateKey(keyPem)).export({ type: "pkcs1", format: "pem" }));
  ensureServiceAccountKey(key, pub);
  assert.equal(readFileSync(pub, "utf8"), publicKeyPem(keyPem));

  writeFileSync(key, "not a key");
  assert.throws(() => ensureServiceAccountKey(key, pub), /sa.key: not a PEM private key/);
});
