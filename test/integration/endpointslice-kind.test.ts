// discovery.k8s.io/v1 EndpointSlice as the real kubectl and the kubeling CLI see it, against a real
// API server and etcd: discovery, create with upstream's defaults, validation in upstream's words,
// upstream's table columns, and the API server's own `default/kubernetes` slice.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ENDPOINTSLICES } from "#pkg/api/resources.js";
import type { EndpointSlice } from "#pkg/api/types/discovery.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let kc: Kubectl;

const rows = (out: string) =>
  out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));

const SLICE = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
  - name: http
    port: 8080
endpoints:
  - addresses: ["10.244.0.5"]
    conditions: {ready: true, serving: true, terminating: false}
    nodeName: node-1
  - addresses: ["10.244.0.6"]
    conditions: {ready: false}
`;

before(async () => {
  srv = await startApiServer();
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await srv?.stop();
});

describe("discovery.k8s.io/v1 EndpointSlice", () => {
  test("kubectl api-resources lists it", async () => {
    const line = rows(await kc.ok(["api-resources", "--api-group=discovery.k8s.io"])).find(
      (r) => r[0] === "endpointslices",
    );
    assert.deepEqual(line, ["endpointslices", "discovery.k8s.io/v1", "true", "EndpointSlice"]);
  });

  test("kubectl apply, defaults, get with upstream's columns; the kubeling CLI agrees", async () => {
    assert.match(
      await kc.ok(["apply", "-f", "-"], { input: SLICE }),
      /endpointslice\.discovery\.k8s\.io\/web-abc12 created/,
    );
    const s = await srv.client.get<EndpointSlice>(ENDPOINTSLICES, "default", "web-abc12");
    assert.deepEqual(s.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
    assert.equal(s.metadata.generation, 1);
    const table = rows(await kc.ok(["get", "endpointslices"]));
    assert.deepEqual(table[0], ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]);
    assert.deepEqual(table.find((r) => r[0] === "web-abc12")?.slice(0, 4), [
      "web-abc12",
      "IPv4",
      "8080",
      "10.244.0.5,10.244.0.6",
    ]);
    const byLabel = rows(await kc.ok(["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name"]));
    assert.deepEqual(byLabel, [["endpointslice.discovery.k8s.io/web-abc12"]]);
    const cli = await runCli(["--kubeconfig", srv.kubeconfigPath, "get", "endpointslices"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(rows(cli.stdout)[0], ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]);
    assert.ok(rows(cli.stdout).some((r) => r[0] === "web-abc12" && r[3] === "10.244.0.5,10.244.0.6"));
  });

  test("validation in upstream's words", async () => {
    const bad = SLICE.replace("name: web-abc12", "name: bad").replace('["10.244.0.6"]', '["fd00::6"]');
    const r = await kc.run(["apply", "-f", "-"], { input: bad });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /The EndpointSlice "bad" is invalid: endpoints\[1\]\.addresses\[0\]: Invalid value: "fd00::6": must be a valid IPv4 address/,
    );
    const moved = SLICE.replace("addressType: IPv4", "addressType: FQDN").replace(
      /\["10\.244\.0\.\d"\]/g,
      '["a.example.com"]',
    );
    const u = await kc.run(["apply", "-f", "-"], { input: moved });
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /addressType: Invalid value: "FQDN": field is immutable/);
  });

  test("the API server keeps default/kubernetes as a slice too", async () => {
    const slice = await waitFor(
      () => srv.client.get<EndpointSlice>(ENDPOINTSLICES, "default", "kubernetes").catch(() => undefined),
      { timeoutMs: 15_000, message: "the kubernetes EndpointSlice" },
    );
    assert.equal(slice.metadata.labels?.["kubernetes.io/service-name"], "kubernetes");
    assert.equal(slice.endpoints[0]?.conditions?.ready, true);
    const port = slice.ports?.[0]?.port;
    const table = rows(await kc.ok(["get", "endpointslice", "kubernetes"]));
    assert.deepEqual(table[1]?.slice(0, 4), ["kubernetes", "IPv4", String(port), "127.0.0.1"]);
  });
});
