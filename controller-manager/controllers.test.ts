import assert from "node:assert/strict";
import { test } from "node:test";
import { CONTROLLERS, enabledControllers } from "./controllers.js";

const known = ["a", "b", "c"];

test("enabledControllers: '*' is every controller not disabled by default, in the table's order", () => {
  assert.deepEqual(enabledControllers(["*"], known), known);
  assert.deepEqual(enabledControllers(["*"], known, new Set(["b"])), ["a", "c"]);
  assert.deepEqual(
    enabledControllers(["*", "b"], known, new Set(["b"])),
    known,
    "named: enabled although off by default",
  );
});

test("enabledControllers: 'foo' enables, '-foo' disables, either over '*'", () => {
  assert.deepEqual(enabledControllers(["c", "a"], known), ["a", "c"]);
  assert.deepEqual(enabledControllers(["*", "-b"], known), ["a", "c"]);
  assert.deepEqual(enabledControllers(["-b", "*"], known), ["a", "c"]);
  assert.deepEqual(enabledControllers([], known), []);
});

test("enabledControllers: an unknown name is an error listing the known ones", () => {
  assert.throws(
    () => enabledControllers(["*", "-nope"], known),
    /"nope" is not in the list of known controllers: a, b, c/,
  );
  assert.throws(() => enabledControllers(["x"], known), /known controllers/);
});

test("the table: the ServiceAccount controller, on by default", () => {
  assert.ok(CONTROLLERS.serviceaccount);
  assert.ok(enabledControllers(["*"]).includes("serviceaccount"));
});

test("the table: the garbage collector, on by default", () => {
  assert.ok(CONTROLLERS.garbagecollector);
  assert.ok(enabledControllers(["*"]).includes("garbagecollector"));
});

test("the table: the endpoints controllers under upstream's names, the old one an alias", () => {
  assert.ok(CONTROLLERS["endpoints-controller"]);
  assert.ok(enabledControllers(["*"]).includes("endpoints-controller"));
  assert.deepEqual(enabledControllers(["endpoint"], ["a", "endpoints-controller"]), ["endpoints-controller"]);
  assert.deepEqual(enabledControllers(["*", "-endpoint"], ["a", "endpoints-controller"]), ["a"]);
});
