import assert from "node:assert/strict";
import { test } from "node:test";
import { forbiddenText, isSubpath, nodeRequestAttributes, subresourcesOf } from "./auth.js";

const sa = { name: "system:serviceaccount:ns:sa", uid: "", groups: ["system:serviceaccounts"] };

test("isSubpath: the path itself or below it, never a sibling with the same prefix", () => {
  assert.ok(isSubpath("/stats", "/stats/"));
  assert.ok(isSubpath("/stats/summary", "/stats/"));
  assert.ok(isSubpath("/metrics/cadvisor", "/metrics"));
  assert.ok(!isSubpath("/statsx", "/stats/"));
  assert.ok(!isSubpath("/metricsfoo", "/metrics"));
});

test("subresourcesOf: upstream's path to nodes/<subresource> mapping", () => {
  const table: Array<[string, string[]]> = [
    ["/stats/summary", ["stats"]],
    ["/stats", ["stats"]],
    ["/metrics", ["metrics"]],
    ["/metrics/cadvisor", ["metrics"]],
    ["/metrics/probes", ["metrics"]],
    ["/logs/", ["log"]],
    ["/logs/syslog", ["log"]],
    ["/checkpoint/ns/p/c", ["checkpoint"]],
    // Everything that runs code or reads a pod goes through nodes/proxy.
    ["/exec/ns/p/c", ["proxy"]],
    ["/attach/ns/p/c", ["proxy"]],
    ["/portForward/ns/p", ["proxy"]],
    ["/containerLogs/ns/p/c", ["proxy"]],
    ["/run/ns/p/c", ["proxy"]],
    ["/spec/", ["proxy"]],
    ["/", ["proxy"]],
    // KubeletFineGrainedAuthz: their own subresource first, nodes/proxy as the fallback.
    ["/pods", ["pods", "proxy"]],
    ["/pods/", ["pods", "proxy"]],
    ["/runningpods/", ["pods", "proxy"]],
    ["/healthz", ["healthz", "proxy"]],
    ["/healthz/ping", ["healthz", "proxy"]],
    ["/configz", ["configz", "proxy"]],
    ["/statusz", ["statusz", "proxy"]],
  ];
  for (const [path, want] of table) assert.deepEqual(subresourcesOf(path), want, path);
});

test("nodeRequestAttributes: verb from the method, resource nodes, the node's name", () => {
  const verbs: Array<[string, string]> = [
    ["GET", "get"],
    ["POST", "create"],
    ["PUT", "update"],
    ["PATCH", "patch"],
    ["DELETE", "delete"],
    // upstream has no verb for the others.
    ["HEAD", ""],
  ];
  for (const [method, verb] of verbs) {
    const [a] = nodeRequestAttributes(sa, method, "/exec/ns/p/c", "node-1");
    assert.deepEqual(a, {
      user: sa,
      verb,
      resourceRequest: true,
      path: "/exec/ns/p/c",
      namespace: "",
      apiGroup: "",
      apiVersion: "v1",
      resource: "nodes",
      subresource: "proxy",
      name: "node-1",
    });
  }
});

test("forbiddenText: upstream's 403 body", () => {
  assert.equal(
    forbiddenText(nodeRequestAttributes(sa, "GET", "/containerLogs/ns/p/c", "node-1")),
    "Forbidden (user=system:serviceaccount:ns:sa, verb=get, resource=nodes, subresource(s)=[proxy])\n",
  );
  assert.equal(
    forbiddenText(nodeRequestAttributes(sa, "GET", "/healthz", "node-1")),
    "Forbidden (user=system:serviceaccount:ns:sa, verb=get, resource=nodes, subresource(s)=[healthz proxy])\n",
  );
});
