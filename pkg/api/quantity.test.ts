import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusError } from "./errors.js";
import {
  bytes,
  canonicalQuantity,
  cpuMillis,
  formatQuantity,
  isValidQuantity,
  parseQuantity,
  QUANTITY_FORMAT_MESSAGE,
  QUANTITY_SUFFIX_MESSAGE,
} from "./quantity.js";

describe("parseQuantity", () => {
  test("decimal, binary and exponent forms", () => {
    assert.equal(parseQuantity("100m"), 0.1);
    assert.equal(parseQuantity("0.5"), 0.5);
    assert.equal(parseQuantity("128Mi"), 128 * 1024 * 1024);
    assert.equal(parseQuantity("1Gi"), 1024 ** 3);
    assert.equal(parseQuantity("1e3"), 1000);
    assert.equal(parseQuantity("2k"), 2000);
    assert.equal(parseQuantity("1.5Gi"), 1.5 * 1024 ** 3);
    assert.equal(parseQuantity("+3"), 3);
    assert.equal(parseQuantity("-2"), -2);
    assert.equal(parseQuantity(".5"), 0.5);
    assert.equal(parseQuantity("1E"), 1e18);
    assert.equal(parseQuantity("1E3"), 1000);
    assert.equal(parseQuantity(2), 2);
    assert.equal(parseQuantity(0.25), 0.25);
  });

  test("cpuMillis and bytes round up like upstream", () => {
    assert.equal(cpuMillis("100m"), 100);
    assert.equal(cpuMillis("0.5"), 500);
    assert.equal(cpuMillis(2), 2000);
    assert.equal(cpuMillis("1n"), 1);
    assert.equal(bytes("128Mi"), 134217728);
    assert.equal(bytes("1k"), 1000);
    assert.equal(bytes("500m"), 1);
  });

  test("bad strings give 400 with upstream messages", () => {
    for (const bad of ["", "abc", "1.2.3", "Mi", "1 Mi", "--1", "1Mb"]) {
      assert.throws(
        () => parseQuantity(bad),
        (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === QUANTITY_FORMAT_MESSAGE,
        bad,
      );
    }
    for (const bad of ["1K", "1mi", "5ki", "1Gi2"]) {
      assert.throws(
        () => parseQuantity(bad),
        (e: unknown) => e instanceof StatusError && e.code === 400 && e.message === QUANTITY_SUFFIX_MESSAGE,
        bad,
      );
    }
    assert.equal(isValidQuantity("1Gi"), true);
    assert.equal(isValidQuantity("1GB"), false);
    assert.equal(isValidQuantity({}), false);
  });
});

describe("formatQuantity", () => {
  test("canonical forms", () => {
    assert.equal(canonicalQuantity("0.5"), "500m");
    assert.equal(canonicalQuantity("1000m"), "1");
    assert.equal(canonicalQuantity("1000"), "1k");
    assert.equal(canonicalQuantity("1500"), "1500");
    assert.equal(canonicalQuantity("1024Mi"), "1Gi");
    assert.equal(canonicalQuantity("2048Ki"), "2Mi");
    assert.equal(canonicalQuantity("1536Mi"), "1536Mi");
    assert.equal(canonicalQuantity("0.5Gi"), "512Mi");
    assert.equal(canonicalQuantity("1.5Ki"), "1536");
    assert.equal(canonicalQuantity("100m"), "100m");
    assert.equal(canonicalQuantity("1e3"), "1e3");
    assert.equal(canonicalQuantity("1e2"), "100");
    assert.equal(canonicalQuantity(1), "1");
    assert.equal(canonicalQuantity("0"), "0");
    assert.equal(canonicalQuantity("0.1"), "100m");
  });

  test("numbers in base units", () => {
    assert.equal(formatQuantity(0.1), "100m");
    assert.equal(formatQuantity(0.3), "300m");
    assert.equal(formatQuantity(134217728, "BinarySI"), "128Mi");
    assert.equal(formatQuantity(1000, "BinarySI"), "1k");
    assert.equal(formatQuantity(-0.25), "-250m");
  });
});
