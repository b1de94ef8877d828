import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { ensureEncryptionConfig } from "./encryption.js";

interface Written {
  apiVersion: string;
  kind: string;
  resources: Array<{
    resources: string[];
    providers: Array<Record<string, { keys?: Array<{ name: string; secret: string }> }>>;
  }>;
}

test("ensureEncryptionConfig writes Secrets' aescbc key (random, 32 bytes, mode 0600) with identity after it, once", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeling-enc-"));
  try {
    const path = join(dir, "pki", "encryption-config.yaml");
    const lines: string[] = [];
    assert.equal(
      ensureEncryptionConfig(path, (l) => lines.push(l)),
      true,
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const c = parse(readFileSync(path, "utf8")) as Written;
    assert.equal(c.apiVersion, "apiserver.config.k8s.io/v1");
    assert.equal(c.kind, "EncryptionConfiguration");
    assert.deepEqual(c.resources[0]?.resources, ["secrets"]);
    const [aescbc, identity] = c.resources[0]?.providers ?? [];
    const key = aescbc?.aescbc?.keys?.[0];
    assert.equal(key?.name, "key1");
    assert.equal(Buffer.from(key?.secret ?? "", "base64").length, 32);
    assert.deepEqual(identity, { identity: {} });

    const before = readFileSync(path, "utf8");
    assert.equal(
      ensureEncryptionConfig(path, (l) => lines.push(l)),
      false,
    );
    assert.equal(readFileSync(path, "utf8"), before, "kept: it holds the key of what is stored");
    assert.match(lines.join("\n"), /wrote .*\n.*using the existing/);

    const other = join(dir, "other.yaml");
    ensureEncryptionConfig(other);
    assert.notEqual(readFileSync(other, "utf8"), before, "a fresh key each cluster");

    // An existing file that others could read is tightened.
    const loose = join(dir, "loose.yaml");
    writeFileSync(loose, before, { mode: 0o644 });
    ensureEncryptionConfig(loose);
    assert.equal(statSync(loose).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
