import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { describe, test } from "node:test";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Table } from "#pkg/api/table.js";
import type { ApiClient } from "#pkg/client/client.js";
import { CliContext, type GlobalOptions } from "../context.js";
import { runGet } from "./get.js";

function table(names: string[], cols: string[], ns = "default"): Table {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: "1" },
    columnDefinitions: cols.map((name, i) => ({
      name,
      type: "string",
      format: i === 0 ? "name" : "",
      description: "",
      priority: 0,
    })),
    rows: names.map((n) => ({
      cells: [n, ...cols.slice(1).map(() => "x")],
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: { name: n, namespace: ns } },
    })),
  };
}

/** A CliContext whose client answers table() from a map, without a server. */
function fakeContext(opts: GlobalOptions, tables: Record<string, Table>) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  err.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const calls: string[] = [];
  const client = {
    table: async (r: ResourceInfo, ns: string | undefined) => {
      calls.push(`${r.resource}@${ns ?? "*"}`);
      return structuredClone(tables[r.resource] ?? table([], ["Name", "Age"]));
    },
  } as unknown as ApiClient;
  const ctx = new (class extends CliContext {
    override get client(): ApiClient {
      return client;
    }
    override get namespace(): string {
      return opts.namespace ?? "default";
    }
  })(opts, { out, err, in: Readable.from([]) });
  return { ctx, calls, stdout: () => stdout, stderr: () => stderr };
}

describe("get (tables)", () => {
  test("several types: kind/name prefixes, one aligned block per type, blank line between", async () => {
    const f = fakeContext(
      {},
      {
        deployments: table(["web"], ["Name", "Ready"]),
        configmaps: table(["cfg"], ["Name", "Data"]),
      },
    );
    assert.equal(await runGet(f.ctx, ["deploy,cm"]), 0);
    assert.equal(
      f.stdout(),
      "NAME                  READY\ndeployment.apps/web   x\n\nNAME            DATA\nconfigmap/cfg   x\n",
    );
    assert.deepEqual(f.calls, ["deployments@default", "configmaps@default"]);
  });

  test("get all skips empty types; nothing at all prints kubectl's message on stderr", async () => {
    const f = fakeContext({}, { services: table(["kubernetes"], ["Name", "Type"]) });
    assert.equal(await runGet(f.ctx, ["all"]), 0);
    assert.equal(f.stdout(), "NAME                 TYPE\nservice/kubernetes   x\n");
    const empty = fakeContext({ namespace: "team-a" }, {});
    await runGet(empty.ctx, ["pods"]);
    assert.equal(empty.stdout(), "");
    assert.equal(empty.stderr(), "No resources found in team-a namespace.\n");
  });

  test("-A lists across namespaces with a NAMESPACE column", async () => {
    const f = fakeContext({ allNamespaces: true }, { pods: table(["p"], ["Name", "Status"], "prod") });
    await runGet(f.ctx, ["pods"]);
    assert.deepEqual(f.calls, ["pods@*"]);
    assert.equal(f.stdout(), "NAMESPACE   NAME   STATUS\nprod        p      x\n");
  });
});
