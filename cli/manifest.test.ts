import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { CliError } from "./errors.js";
import { loadManifests, parseManifests } from "./manifest.js";

describe("manifest loading", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeling-manifest-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("multi-document YAML, skipping empty documents", () => {
    const objs = parseManifests(
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
      "x.yaml",
    );
    assert.deepEqual(
      objs.map((o) => `${o.object.kind}/${o.object.metadata.name}`),
      ["ConfigMap/a", "Deployment/web"],
    );
    assert.equal(objs[0]?.source, "x.yaml");
  });

  test("kind: List is expanded, JSON is accepted", () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        { apiVersion: "v1", kind: "Service", metadata: { name: "s" } },
        { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } },
      ],
    });
    assert.deepEqual(
      parseManifests(json, "l.json").map((o) => o.object.kind),
      ["Service", "Pod"],
    );
  });

  test("a YAML syntax error names the file", () => {
    assert.throws(
      () => parseManifests("apiVersion: v1\nkind: [unclosed\n", "bad.yaml"),
      (err: unknown) => err instanceof CliError && /^error: error parsing bad\.yaml: /.test(err.message),
    );
  });

  test("missing kind/apiVersion is a validation error", () => {
    assert.throws(() => parseManifests("metadata: {name: x}\n", "m.yaml"), /apiVersion not set, kind not set/);
  });

  test("directories are read in name order; - reads stdin", async () => {
    writeFileSync(join(dir, "b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n");
    writeFileSync(join(dir, "a.json"), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}');
    writeFileSync(join(dir, "notes.txt"), "ignored");
    const objs = await loadManifests([dir, "-"], {
      stdin: Readable.from(["apiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n"]),
    });
    assert.deepEqual(
      objs.map((o) => o.object.metadata.name),
      ["a", "b", "c"],
    );
    assert.equal(objs[2]?.source, "STDIN");
  });

  test("a missing path is an error", async () => {
    await assert.rejects(loadManifests([join(dir, "nope.yaml")]), /does not exist/);
  });
});
