import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDuration } from "#pkg/runtime/duration.js";
import { CliError } from "./errors.js";
import { humanDuration, rfc1123z } from "./format.js";
import { kindPrefix, parseTypeArgs, resolveType } from "./resources.js";

describe("resource name resolution", () => {
  test("short names, singular, plural, kind and group-qualified names", () => {
    for (const n of ["po", "pod", "pods", "Pod"]) assert.equal(resolveType(n).resource, "pods");
    for (const n of ["deploy", "deployment", "deployments.apps", "deploy.apps", "deployment.v1.apps"]) {
      assert.equal(resolveType(n).resource, "deployments");
    }
    assert.equal(resolveType("ns").namespaced, false);
  });

  test("unknown types get kubectl's message", () => {
    assert.throws(
      () => resolveType("foo"),
      (e: unknown) => e instanceof CliError && e.message === 'error: the server doesn\'t have a resource type "foo"',
    );
  });

  test("TYPE,TYPE NAME and TYPE/NAME forms, and the all category", () => {
    assert.deepEqual(
      parseTypeArgs(["po,svc", "a"]).map((t) => [t.r.resource, t.names]),
      [
        ["pods", ["a"]],
        ["services", ["a"]],
      ],
    );
    assert.deepEqual(
      parseTypeArgs(["pod/a", "deploy/b", "pod/c"]).map((t) => [t.r.resource, t.names]),
      [
        ["pods", ["a", "c"]],
        ["deployments", ["b"]],
      ],
    );
    const all = parseTypeArgs(["all"]).map((t) => t.r.resource);
    assert.equal(all[0], "pods");
    assert.ok(all.includes("deployments") && all.includes("services"));
    assert.ok(!all.includes("configmaps"));
  });

  test("kind prefixes as kubectl prints them", () => {
    assert.equal(kindPrefix(resolveType("deploy")), "deployment.apps");
    assert.equal(kindPrefix(resolveType("po")), "pod");
  });
});

describe("formatting helpers", () => {
  test("humanDuration follows apimachinery's HumanDuration", () => {
    const s = 1000;
    assert.equal(humanDuration(45 * s), "45s");
    assert.equal(humanDuration(119 * s), "119s");
    assert.equal(humanDuration(330 * s), "5m30s");
    assert.equal(humanDuration(45 * 60 * s), "45m");
    assert.equal(humanDuration(200 * 60 * s), "3h20m");
    assert.equal(humanDuration(20 * 3600 * s), "20h");
    assert.equal(humanDuration((3 * 24 + 5) * 3600 * s), "3d5h");
    assert.equal(humanDuration(45 * 24 * 3600 * s), "45d");
  });

  test("durations and RFC1123Z", () => {
    assert.equal(parseDuration("60s"), 60_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("2"), 2000);
    assert.throws(() => parseDuration("abc"));
    assert.equal(rfc1123z("2026-11-22T00:30:21Z"), "Sun, 22 Nov 2026 00:30:21 +0000");
  });
});
