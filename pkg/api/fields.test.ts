import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusError } from "./errors.js";
import { escapeFieldValue, parseFieldSelector } from "./fields.js";

describe("parseFieldSelector", () => {
  test("empty selects everything", () => {
    const s = parseFieldSelector("");
    assert.equal(s.empty, true);
    assert.equal(s.matches({}), true);
  });

  test("=, == and !=", () => {
    assert.equal(parseFieldSelector("metadata.name=web").matches({ "metadata.name": "web" }), true);
    assert.equal(parseFieldSelector("metadata.name==web").matches({ "metadata.name": "web" }), true);
    assert.equal(parseFieldSelector("metadata.name=web").matches({ "metadata.name": "api" }), false);
    assert.equal(parseFieldSelector("status.phase!=Failed").matches({ "status.phase": "Running" }), true);
    assert.equal(parseFieldSelector("status.phase!=Failed").matches({ "status.phase": "Failed" }), false);
  });

  test("describe node's selector", () => {
    const s = parseFieldSelector("spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed");
    assert.equal(s.matches({ "spec.nodeName": "n1", "status.phase": "Running" }), true);
    assert.equal(s.matches({ "spec.nodeName": "n1", "status.phase": "Failed" }), false);
    assert.equal(s.matches({ "spec.nodeName": "n2", "status.phase": "Running" }), false);
    assert.equal(s.requiresExactMatch("spec.nodeName"), "n1");
    assert.equal(s.requiresExactMatch("status.phase"), undefined);
  });

  test("a missing field equals the empty string (events about nodes)", () => {
    const s = parseFieldSelector("involvedObject.name=n1,involvedObject.namespace=,involvedObject.kind=Node");
    assert.equal(s.matches({ "involvedObject.name": "n1", "involvedObject.kind": "Node" }), true);
    assert.equal(
      s.matches({ "involvedObject.name": "n1", "involvedObject.kind": "Node", "involvedObject.namespace": "default" }),
      false,
    );
    assert.equal(parseFieldSelector("spec.nodeName!=").matches({}), false);
  });

  test("escaping", () => {
    const s = parseFieldSelector("a=x\\,y\\=z\\\\,b!=c");
    assert.deepEqual(s.requirements, [
      { field: "a", operator: "=", value: "x,y=z\\" },
      { field: "b", operator: "!=", value: "c" },
    ]);
    assert.equal(s.toString(), "a=x\\,y\\=z\\\\,b!=c");
    assert.equal(escapeFieldValue("a,b=c\\"), "a\\,b\\=c\\\\");
  });

  test("bad selectors are 400", () => {
    for (const bad of ["a", "a=b=c", "a=\\q", "a=b\\", "=b"]) {
      assert.throws(
        () => parseFieldSelector(bad),
        (err: unknown) => err instanceof StatusError && err.code === 400,
        bad,
      );
    }
  });
});
