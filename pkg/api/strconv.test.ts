import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBool } from "./strconv.js";

test("parseBool accepts exactly Go's strconv.ParseBool spellings", () => {
  for (const v of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(parseBool(v), true, v);
  for (const v of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(parseBool(v), false, v);
  for (const v of ["", "yes", "tRUE", "2", " true", "on"]) assert.equal(parseBool(v), undefined, JSON.stringify(v));
});
