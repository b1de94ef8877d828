import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DNS1123_SUBDOMAIN_ERROR,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  nameIsDNSLabel,
  portNameErrors,
  validateAnnotations,
  validateIntOrStringPort,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validatePortNumber,
  validateQuantity,
} from "./validation.js";

describe("names", () => {
  test("DNS-1123 label and subdomain", () => {
    assert.equal(isDNS1123Label("my-name"), true);
    assert.equal(isDNS1123Label("a.b"), false);
    assert.equal(isDNS1123Label("-a"), false);
    assert.equal(isDNS1123Label("a".repeat(64)), false);
    assert.equal(isDNS1123Subdomain("example.com"), true);
    assert.equal(isDNS1123Subdomain("Example.com"), false);
    assert.equal(isDNS1123Subdomain("a..b"), false);
    assert.equal(isDNS1123Subdomain("a".repeat(254)), false);
  });

  test("upstream subdomain message text", () => {
    assert.equal(
      DNS1123_SUBDOMAIN_ERROR,
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  });

  test("generateName may end in a dash", () => {
    assert.deepEqual(nameIsDNSLabel("web-", true), []);
    assert.notDeepEqual(nameIsDNSLabel("web-", false), []);
  });
});

describe("labels and annotations", () => {
  test("qualified names and values", () => {
    assert.equal(isQualifiedName("app"), true);
    assert.equal(isQualifiedName("app.kubernetes.io/name"), true);
    assert.equal(isQualifiedName("node-role.kubernetes.io/control-plane"), true);
    assert.equal(isQualifiedName("a/b/c"), false);
    assert.equal(isQualifiedName("/a"), false);
    assert.equal(isQualifiedName("-a"), false);
    assert.equal(isValidLabelValue(""), true);
    assert.equal(isValidLabelValue("v1.2_3"), true);
    assert.equal(isValidLabelValue("has space"), false);
    assert.equal(isValidLabelValue("x".repeat(64)), false);
  });

  test("validateLabels gives field errors with upstream text", () => {
    const errs = validateLabels({ "bad key!": "ok", good: "bad value!" }, "metadata.labels");
    assert.equal(errs.length, 2);
    assert.equal(errs[0]?.field, "metadata.labels");
    assert.match(errs[0]?.message ?? "", /^Invalid value: "bad key!": name part must consist of alphanumeric/);
    assert.match(errs[1]?.message ?? "", /^Invalid value: "bad value!": a valid label must be an empty string/);
  });

  test("annotation total size", () => {
    assert.deepEqual(validateAnnotations({ a: "x".repeat(1000) }, "metadata.annotations"), []);
    const errs = validateAnnotations({ a: "x".repeat(256 * 1024) }, "metadata.annotations");
    assert.equal(errs[0]?.type, "FieldValueTooLong");
    assert.equal(errs[0]?.message, "Too long: must have at most 262144 bytes");
  });
});

describe("validateObjectMeta", () => {
  test("name required unless generateName", () => {
    const errs = validateObjectMeta({ namespace: "default" }, true);
    assert.deepEqual(errs, [
      {
        field: "metadata.name",
        type: "FieldValueRequired",
        message: "Required value: name or generateName is required",
      },
    ]);
    assert.deepEqual(validateObjectMeta({ name: "x", generateName: "web-", namespace: "default" }, true), []);
  });

  test("bad name format", () => {
    const errs = validateObjectMeta({ name: "Bad_Name", namespace: "default" }, true);
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.field, "metadata.name");
    assert.equal(errs[0]?.message, `Invalid value: "Bad_Name": ${DNS1123_SUBDOMAIN_ERROR}`);
  });

  test("namespace required for namespaced kinds, forbidden for cluster-scoped", () => {
    assert.deepEqual(validateObjectMeta({ name: "x" }, true), [
      { field: "metadata.namespace", type: "FieldValueRequired", message: "Required value" },
    ]);
    assert.deepEqual(validateObjectMeta({ name: "x", namespace: "a" }, false), [
      { field: "metadata.namespace", type: "FieldValueForbidden", message: "Forbidden: not allowed on this type" },
    ]);
    assert.deepEqual(validateObjectMeta({ name: "node-1" }, false), []);
  });

  test("labels are checked", () => {
    const errs = validateObjectMeta({ name: "x", namespace: "d", labels: { "a b": "c" } }, true);
    assert.equal(errs[0]?.field, "metadata.labels");
  });

  test("update: immutable name/uid", () => {
    const errs = validateObjectMetaUpdate({ name: "b", uid: "1" }, { name: "a", uid: "1" });
    assert.deepEqual(errs, [
      { field: "metadata.name", type: "FieldValueInvalid", message: 'Invalid value: "b": field is immutable' },
    ]);
  });
});

describe("ports and quantities", () => {
  test("port numbers", () => {
    assert.deepEqual(validatePortNumber(80, "p"), []);
    assert.equal(validatePortNumber(0, "p")[0]?.message, "Invalid value: 0: must be between 1 and 65535, inclusive");
    assert.equal(validatePortNumber(65536, "p").length, 1);
    assert.deepEqual(validateIntOrStringPort("http", "p"), []);
    assert.equal(validateIntOrStringPort("Http_x", "p").length > 0, true);
    assert.deepEqual(portNameErrors("a--b"), ["must not contain consecutive hyphens"]);
  });

  test("quantities", () => {
    assert.deepEqual(validateQuantity("100m", "q"), []);
    assert.equal(validateQuantity("abc", "q").length, 1);
    assert.match(validateQuantity("-1", "q")[0]?.message ?? "", /must be greater than or equal to 0/);
  });
});
