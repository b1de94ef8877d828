import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BUILTIN_RESOURCES,
  DEPLOYMENTS,
  EVENTS,
  LEASES,
  NODES,
  PODS,
  type ResourceType,
  registry,
  resourcePath,
} from "./resources.js";
import type { Deployment, Pod } from "./types/index.js";

describe("typed resource constants", () => {
  it("are the registry's own entries, so lookups and constants compare equal", () => {
    assert.equal(registry.lookup("po"), PODS);
    assert.equal(registry.lookup("deployments.apps"), DEPLOYMENTS);
    assert.equal(registry.byGroupResource("coordination.k8s.io", "leases"), LEASES);
    assert.equal(registry.byKind("v1", "Event"), EVENTS);
    assert.equal(registry.mustLookup("nodes"), NODES);
    assert.equal(new Set(BUILTIN_RESOURCES).size, BUILTIN_RESOURCES.length);
  });

  it("keep discovery order", () => {
    assert.deepEqual(
      registry.category("all").map((r) => r.resource),
      [
        "pods",
        "replicationcontrollers",
        "services",
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
        "jobs",
        "cronjobs",
      ],
    );
    assert.equal(
      resourcePath(DEPLOYMENTS, "prod", "web", "scale"),
      "/apis/apps/v1/namespaces/prod/deployments/web/scale",
    );
  });

  it("carry their object type (checked by the compiler)", () => {
    const objectOf = <T extends Pod | Deployment>(_r: ResourceType<T>): T | undefined => undefined;
    const pod: Pod | undefined = objectOf(PODS);
    const deployment: Deployment | undefined = objectOf(DEPLOYMENTS);
    // @ts-expect-error a Deployment resource does not give Pods
    const wrong: Pod | undefined = objectOf<Pod>(DEPLOYMENTS);
    assert.equal(pod ?? deployment ?? wrong, undefined);
  });
});
