import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusError } from "./errors.js";
import { labelKeyErrors, nothing, parseLabelSelector, selectorFromLabelSelector, selectorFromSet } from "./labels.js";

function rejects400(s: string): void {
  assert.throws(
    () => parseLabelSelector(s),
    (err: unknown) => err instanceof StatusError && err.code === 400 && err.reason === "BadRequest",
    `expected 400 for ${JSON.stringify(s)}`,
  );
}

describe("parseLabelSelector", () => {
  test("empty selects everything", () => {
    const s = parseLabelSelector("");
    assert.equal(s.empty, true);
    assert.equal(s.matches(undefined), true);
    assert.equal(s.matches({ a: "b" }), true);
    assert.equal(parseLabelSelector("   ").empty, true);
  });

  test("equality operators", () => {
    assert.equal(parseLabelSelector("app=web").matches({ app: "web" }), true);
    assert.equal(parseLabelSelector("app==web").matches({ app: "web" }), true);
    assert.equal(parseLabelSelector("app=web").matches({ app: "api" }), false);
    assert.equal(parseLabelSelector("app=web").matches({}), false);
    assert.equal(parseLabelSelector("app!=web").matches({ app: "api" }), true);
    assert.equal(parseLabelSelector("app!=web").matches({}), true, "!= matches a missing label");
    assert.equal(parseLabelSelector("app!=web").matches({ app: "web" }), false);
    assert.equal(parseLabelSelector("app=").matches({ app: "" }), true);
    assert.equal(parseLabelSelector("app=").matches({}), false);
  });

  test("set operators, as kubectl sends them after URL decoding (+ became space)", () => {
    const s = parseLabelSelector("app in (web,standalone),tier!=x");
    assert.equal(s.matches({ app: "web" }), true);
    assert.equal(s.matches({ app: "standalone", tier: "y" }), true);
    assert.equal(s.matches({ app: "standalone", tier: "x" }), false);
    assert.equal(s.matches({ app: "other" }), false);
    const n = parseLabelSelector("env notin (prod, staging)");
    assert.equal(n.matches({ env: "dev" }), true);
    assert.equal(n.matches({}), true);
    assert.equal(n.matches({ env: "prod" }), false);
  });

  test("exists and does-not-exist", () => {
    const s = parseLabelSelector("app,!legacy");
    assert.equal(s.matches({ app: "x" }), true);
    assert.equal(s.matches({ app: "x", legacy: "1" }), false);
    assert.equal(s.matches({}), false);
    assert.equal(parseLabelSelector(" ! legacy ").matches({}), true);
  });

  test("gt and lt", () => {
    assert.equal(parseLabelSelector("n>3").matches({ n: "4" }), true);
    assert.equal(parseLabelSelector("n>3").matches({ n: "3" }), false);
    assert.equal(parseLabelSelector("n<3").matches({ n: "2" }), true);
    assert.equal(parseLabelSelector("n<3").matches({}), false);
  });

  test("whitespace tolerant", () => {
    const s = parseLabelSelector("  app = web ,  tier in ( a , b ) ");
    assert.equal(s.matches({ app: "web", tier: "b" }), true);
    assert.equal(s.toString(), "app=web,tier in (a,b)");
  });

  test("canonical string: sorted by key, values sorted", () => {
    assert.equal(parseLabelSelector("z=1,a in (c,b,b),!m,k").toString(), "a in (b,c),k,!m,z=1");
    assert.equal(parseLabelSelector("x notin (2,1)").toString(), "x notin (1,2)");
    assert.equal(parseLabelSelector("x==1").toString(), "x==1");
  });

  test("prefixed keys", () => {
    const s = parseLabelSelector("app.kubernetes.io/name=web");
    assert.equal(s.matches({ "app.kubernetes.io/name": "web" }), true);
  });

  test("empty set members as upstream", () => {
    assert.equal(parseLabelSelector("a in ()").matches({ a: "" }), true);
    assert.equal(parseLabelSelector("a in (,b)").matches({ a: "" }), true);
    assert.equal(parseLabelSelector("a in (b,)").matches({ a: "" }), true);
  });

  test("bad syntax and invalid keys/values are 400 BadRequest", () => {
    for (const bad of [
      "app in web",
      "app in (a",
      "app=web=x",
      "=web",
      "app=a b",
      "!app=x",
      "a,,b",
      "a,",
      "in",
      "bad key=1",
      "-a=b",
      "a=-b",
      `a=${"x".repeat(64)}`,
      "UPPER.example.com/a=b",
      "a/b/c=d",
      "(a)",
      "n>x",
    ]) {
      rejects400(bad);
    }
    try {
      parseLabelSelector("app=a b");
      assert.fail("should throw");
    } catch (err) {
      assert.ok(err instanceof StatusError);
      assert.match(err.message, /^unable to parse requirement: /);
    }
  });

  test("label key validation", () => {
    assert.deepEqual(labelKeyErrors("app"), []);
    assert.deepEqual(labelKeyErrors("example.com/app_1.x"), []);
    assert.notDeepEqual(labelKeyErrors(""), []);
    assert.notDeepEqual(labelKeyErrors("/a"), []);
    assert.notDeepEqual(labelKeyErrors("a/"), []);
  });
});

describe("selectorFromLabelSelector", () => {
  test("matchLabels and matchExpressions", () => {
    const s = selectorFromLabelSelector({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["a", "b"] },
        { key: "env", operator: "NotIn", values: ["prod"] },
        { key: "team", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist", values: [] },
      ],
    });
    assert.equal(s.matches({ app: "web", tier: "a", team: "x" }), true);
    assert.equal(s.matches({ app: "web", tier: "a", team: "x", env: "prod" }), false);
    assert.equal(s.matches({ app: "web", tier: "c", team: "x" }), false);
    assert.equal(s.matches({ app: "web", tier: "a" }), false);
    assert.equal(s.matches({ app: "web", tier: "a", team: "x", legacy: "y" }), false);
    assert.equal(s.toString(), "app=web,env notin (prod),!legacy,team,tier in (a,b)");
  });

  test("null selects nothing, {} selects everything", () => {
    assert.equal(selectorFromLabelSelector(undefined), nothing);
    assert.equal(selectorFromLabelSelector(null).matches({ a: "b" }), false);
    assert.equal(selectorFromLabelSelector({}).empty, true);
    assert.equal(selectorFromLabelSelector({}).matches({ a: "b" }), true);
  });

  test("invalid expressions are 400", () => {
    assert.throws(
      () => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }),
      StatusError,
    );
    assert.throws(
      () => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }),
      StatusError,
    );
    assert.throws(
      () => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Bogus" }] }),
      StatusError,
    );
    assert.throws(() => selectorFromLabelSelector({ matchLabels: { a: "b c" } }), StatusError);
  });

  test("selectorFromSet", () => {
    const s = selectorFromSet({ b: "2", a: "1" });
    assert.equal(s.toString(), "a=1,b=2");
    assert.equal(s.matches({ a: "1", b: "2", c: "3" }), true);
    assert.equal(s.matches({ a: "1" }), false);
    assert.equal(selectorFromSet(undefined).empty, true);
  });
});
