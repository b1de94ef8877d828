import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isAlreadyExists,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  isStatusError,
  notFound,
  StatusError,
} from "./errors.js";

// A second copy of this module, as when both the sources and dist/ of pkg/ are loaded.
const copyUrl = new URL("./errors.ts?copy=2", import.meta.url).href;
const other = (await import(copyUrl)) as typeof import("./errors.js");

describe("StatusError brand", () => {
  it("the second copy is a distinct class", () => {
    assert.notEqual(other.StatusError, StatusError);
  });

  it("predicates hold for errors made by another copy of the module", () => {
    const err = other.notFound({ group: "", resource: "pods" }, "web");
    assert.ok(isStatusError(err));
    assert.ok(err instanceof StatusError);
    assert.ok(isNotFound(err));
    assert.ok(!isConflict(err));
    assert.ok(isAlreadyExists(new other.StatusError(409, "AlreadyExists", "x")));
    assert.ok(isConflict(new other.StatusError(409, "Conflict", "x")));
    assert.ok(isInvalid(new other.StatusError(422, "Invalid", "x")));
    assert.ok(isGone(new other.StatusError(410, "Expired", "x")));
  });

  it("and the other way round", () => {
    const err = notFound({ group: "apps", resource: "deployments" }, "web");
    assert.ok(other.isNotFound(err));
    assert.ok(err instanceof other.StatusError);
  });

  it("plain errors and look-alikes without the brand are not StatusErrors", () => {
    assert.ok(!isStatusError(new Error("x")));
    assert.ok(!isNotFound({ reason: "NotFound", code: 404 }));
    assert.ok(!({ reason: "NotFound" } instanceof StatusError));
    assert.ok(!isStatusError(null));
    assert.ok(!(new Error("x") instanceof StatusError));
  });

  it("an object carrying the registered brand counts", () => {
    const branded = Object.assign(new Error("gone"), {
      [Symbol.for("kubeling.io/StatusError")]: true,
      code: 404,
      reason: "NotFound",
    });
    assert.ok(isNotFound(branded));
  });

  it("the brand stays off the wire", () => {
    const err = new StatusError(404, "NotFound", "x");
    assert.deepEqual(Object.keys(err.toStatus()).sort(), [
      "apiVersion",
      "code",
      "kind",
      "message",
      "metadata",
      "reason",
      "status",
    ]);
    assert.ok(!JSON.stringify(err.toStatus()).includes("kubeling.io"));
  });
});
