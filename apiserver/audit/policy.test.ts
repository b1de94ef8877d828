import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { requestInfo } from "../auth/authorizer/request-info.js";
import type { UserInfo } from "../auth/user.js";
import { evaluatePolicy, type Policy, parsePolicy } from "./policy.js";

const info = (method: string, url: string) => {
  const [path = "", qs = ""] = url.split("?");
  return requestInfo(method, path, new URLSearchParams(qs));
};
const alice: UserInfo = { name: "alice", uid: "1", groups: ["dev", "system:authenticated"] };
const kubelet: UserInfo = { name: "system:node:n1", uid: "", groups: ["system:nodes", "system:authenticated"] };

const policy = parsePolicy(
  `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
  resources:
  - group: ""
    resources: ["endpoints", "services"]
- level: None
  userGroups: ["system:nodes"]
  verbs: ["get"]
  resources:
  - group: ""
    resources: ["nodes", "nodes/status"]
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["configmaps"]
    resourceNames: ["watched"]
- level: Request
  resources:
  - group: ""
    resources: ["pods/*"]
  - group: "apps"
    resources: ["*/scale"]
- level: Metadata
  namespaces: ["kube-system"]
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets", "configmaps"]
  omitStages: [ResponseComplete]
- level: Request
  verbs: ["create", "update", "patch", "delete"]
- level: Metadata
  omitStages: [RequestReceived]
`,
  "policy.yaml",
);

const levelOf = (p: Policy, user: UserInfo | undefined, method: string, url: string) =>
  evaluatePolicy(p, user, info(method, url)).level;

describe("audit policy rules", () => {
  const cases: Array<[string, UserInfo | undefined, string, string, string]> = [
    [
      "users and verbs",
      { name: "system:kube-proxy", uid: "", groups: [] },
      "GET",
      "/api/v1/services?watch=true",
      "None",
    ],
    [
      "the same user listing is not matched by the watch rule",
      { name: "system:kube-proxy", uid: "", groups: [] },
      "GET",
      "/api/v1/services",
      "Metadata",
    ],
    ["user groups, a subresource named in full", kubelet, "GET", "/api/v1/nodes/n1/status", "None"],
    ["non-resource URL with a trailing *", alice, "GET", "/healthz/etcd", "None"],
    ["non-resource URL exact", alice, "GET", "/version", "None"],
    ["other non-resource URLs fall to the catch-all", alice, "GET", "/metrics", "Metadata"],
    ["resourceNames", alice, "GET", "/api/v1/namespaces/a/configmaps/watched", "RequestResponse"],
    ["another configmap", alice, "GET", "/api/v1/namespaces/a/configmaps/other", "Metadata"],
    ["pods/* matches subresources", alice, "POST", "/api/v1/namespaces/a/pods/p/eviction", "Request"],
    // Upstream's matcher checks only the resource for "pods/*": the pods themselves match too.
    ["pods/* matches the resource itself as upstream", alice, "GET", "/api/v1/namespaces/a/pods/p", "Request"],
    ["*/scale in a group", alice, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale", "Request"],
    [
      "*/scale of another group does not match",
      alice,
      "GET",
      "/api/v1/namespaces/a/replicationcontrollers/r/scale",
      "Metadata",
    ],
    ["namespaces", alice, "GET", "/api/v1/namespaces/kube-system/endpoints/e", "Metadata"],
    ["verbs on anything", alice, "POST", "/apis/apps/v1/namespaces/a/deployments", "Request"],
    ["no user at all (a failed authentication)", undefined, "GET", "/api/v1/services", "Metadata"],
  ];
  for (const [name, user, method, url, want] of cases) {
    test(name, () => assert.equal(levelOf(policy, user, method, url), want));
  }

  test("omitStages: the policy's and the matching rule's", () => {
    assert.deepEqual(evaluatePolicy(policy, alice, info("GET", "/api/v1/namespaces/a/secrets/s")).omitStages, [
      "RequestReceived",
      "ResponseComplete",
    ]);
  });

  test("no rule matches: None", () => {
    const p = parsePolicy(
      "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [bob]\n",
      "p",
    );
    assert.equal(levelOf(p, alice, "GET", "/api/v1/pods"), "None");
  });

  test("policy files that do not load", () => {
    assert.throws(() => parsePolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n", "p.yaml"), {
      message: "loaded illegal policy with 0 rules from file p.yaml",
    });
    assert.throws(() => parsePolicy("apiVersion: audit.k8s.io/v2\nkind: Policy\nrules: []\n", "p.yaml"), {
      message: 'failed decoding file "p.yaml": no kind "Policy" is registered for version "audit.k8s.io/v2"',
    });
    assert.throws(
      () =>
        parsePolicy(
          'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n- level: None\n  nonResourceURLs: ["/x"]\n  namespaces: [a]\n',
          "p.yaml",
        ),
      {
        message:
          'invalid audit policy file "p.yaml": rules[0].level: Unsupported value: "Loud": supported values: "None", "Metadata", "Request", "RequestResponse", rules[1].nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs',
      },
    );
  });
});
