import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DESCRIBE_TABWRITER, GET_TABWRITER, TabWriter, tabify } from "./tabwriter.js";

describe("tabwriter (Go text/tabwriter semantics)", () => {
  test("aligns columns with padding and min width", () => {
    const out = tabify("NAME\tREADY\tAGE\nweb-abc\t1/1\t5m\n", { minWidth: 6, padding: 3 });
    assert.equal(out, "NAME      READY   AGE\nweb-abc   1/1     5m\n");
  });

  test("a line without tabs ends a column block", () => {
    const out = tabify("Name:\tx\nLabels:\ta=b\nContainers:\n  c:\n    Image:\tbusybox\n", DESCRIBE_TABWRITER);
    assert.equal(out, "Name:    x\nLabels:  a=b\nContainers:\n  c:\n    Image:  busybox\n");
  });

  test("nested blocks: inner columns size only over lines that have them", () => {
    const out = tabify("a\tbb\tc\naaa\tb\nx\n", { minWidth: 0, padding: 1 });
    assert.equal(out, "a   bb c\naaa b\nx\n");
  });

  test("remembered widths persist across flushes", () => {
    const w = new TabWriter(GET_TABWRITER);
    w.write("NAME\tSTATUS\nlong-name-here\tRunning\n");
    const first = w.flush();
    w.write("x\tTerminating\n");
    assert.equal(first, "NAME             STATUS\nlong-name-here   Running\n");
    assert.equal(w.flush(), "x                Terminating\n");
  });
});
