import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import { verbOf } from "../routes/resources.js";
import { bool, isWatch, lenientBool, listOptions } from "./query.js";

test("boolean parameters take strconv.ParseBool's spellings: the Python client's watch=True is a watch", () => {
  for (const v of ["True", "true", "1", "t", "TRUE", ""]) assert.equal(isWatch({ watch: v }), true, v);
  for (const v of ["False", "false", "0", "f"]) assert.equal(isWatch({ watch: v }), false, v);
  assert.deepEqual(listOptions({ allowWatchBookmarks: "True", sendInitialEvents: "False" }), {
    allowWatchBookmarks: true,
    sendInitialEvents: false,
  });
  assert.equal(bool({}, "watch"), undefined);
});

test("any other value is a 400 BadRequest, which request classification does not throw", () => {
  assert.throws(
    () => isWatch({ watch: "yes" }),
    (err: unknown) =>
      err instanceof StatusError &&
      err.code === 400 &&
      err.message === 'invalid value for watch: "yes" (must be true or false)',
  );
  assert.equal(lenientBool({ watch: "yes" }, "watch"), undefined);
  const t = { resource: "pods", name: undefined, watchPath: false, subresource: undefined } as unknown as Parameters<
    typeof verbOf
  >[1];
  assert.equal(verbOf("GET", t, { watch: "True" }), "WATCH");
  assert.equal(verbOf("GET", t, { watch: "yes" }), "LIST");
});
