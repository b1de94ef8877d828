import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsonpath } from "./jsonpath.js";

const list = {
  kind: "List",
  items: [
    {
      metadata: { name: "a", labels: { "app.kubernetes.io/name": "x" } },
      status: { conditions: [{ type: "Ready", status: "True" }], podIP: "10.0.0.1" },
    },
    { metadata: { name: "b" }, status: { conditions: [{ type: "Ready", status: "False" }] } },
  ],
};

describe("jsonpath templates", () => {
  test("fields, wildcards and indexes", () => {
    assert.equal(jsonpath("{.items[*].metadata.name}", list), "a b");
    assert.equal(jsonpath("{.items[0].status.podIP}", list), "10.0.0.1");
    assert.equal(jsonpath("{.items[-1].metadata.name}", list), "b");
    assert.equal(jsonpath("{.items[0].metadata.labels['app.kubernetes.io/name']}", list), "x");
    assert.equal(jsonpath("{.kind}", list), "List");
    assert.equal(jsonpath("{.nope}", list), "");
  });

  test("filters, range and literals", () => {
    assert.equal(jsonpath('{.items[0].status.conditions[?(@.type=="Ready")].status}', list), "True");
    assert.equal(
      jsonpath('{range .items[*]}{.metadata.name}{"\\t"}{.status.conditions[0].status}{"\\n"}{end}', list),
      "a\tTrue\nb\tFalse\n",
    );
    assert.equal(jsonpath("name={.items[1].metadata.name}", list), "name=b");
    assert.equal(jsonpath("{.items[0].status}", list), JSON.stringify(list.items[0]?.status));
  });

  test("syntax errors are reported", () => {
    assert.throws(() => jsonpath("{range .items[*]}{.x}", list), /unclosed range/);
    assert.throws(() => jsonpath("{.items[", list), /unclosed/);
  });
});
