import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import { LIMITRANGES, PODS } from "#pkg/api/resources.js";
import type { LimitRange, LimitRangeItem, Pod } from "#pkg/api/types/core.js";
import { strategyFor } from "../../registry/strategies.js";
import { attrs, fakeContext, namespace } from "../testing.js";
import { newLimitRanger } from "./admission.js";

/** A LimitRange as the API server stores it (defaulted). */
function stored(limits: LimitRangeItem[]): LimitRange {
  const lr: LimitRange = {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "lr", namespace: "ns" },
    spec: { limits },
  };
  strategyFor(LIMITRANGES).applyDefaults(lr);
  return lr;
}

describe("LimitRanger", () => {
  test("containers get the defaults they leave out, noted in the annotation", async () => {
    const lr = stored([
      { type: "Container", default: { cpu: "500m", memory: "256Mi" }, defaultRequest: { cpu: "100m" } },
    ]);
    const plugin = newLimitRanger(fakeContext({ namespaces: [namespace("ns")], objects: { "/limitranges": [lr] } }));
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "ns" },
      spec: { containers: [{ name: "a" }, { name: "b", resources: { limits: { cpu: "1" } } }] },
    };
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod });
    await plugin.admit?.(a);
    await plugin.validate?.(a);
    assert.deepEqual(pod.spec?.containers[0]?.resources, {
      limits: { cpu: "500m", memory: "256Mi" },
      requests: { cpu: "100m", memory: "256Mi" },
    });
    assert.deepEqual(pod.spec?.containers[1]?.resources, {
      limits: { cpu: "1", memory: "256Mi" },
      requests: { cpu: "100m", memory: "256Mi" },
    });
    assert.equal(
      pod.metadata.annotations?.["kubernetes.io/limit-ranger"],
      "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; cpu, memory request for container b; memory limit for container b",
    );
  });

  test("min, max and ratio in upstream's words", async () => {
    const lr = stored([
      {
        type: "Container",
        min: { cpu: "100m" },
        max: { cpu: "1", memory: "1Gi" },
        maxLimitRequestRatio: { cpu: "2" },
      },
      { type: "Pod", max: { cpu: "1500m" } },
    ]);
    const plugin = newLimitRanger(fakeContext({ namespaces: [namespace("ns")], objects: { "/limitranges": [lr] } }));
    const check = async (containers: NonNullable<Pod["spec"]>["containers"]) => {
      const pod: Pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "ns" },
        spec: { containers },
      };
      const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod });
      await plugin.admit?.(a);
      try {
        await plugin.validate?.(a);
        return "";
      } catch (err) {
        assert.ok(isStatusError(err));
        assert.equal(err.code, 403);
        return err.message;
      }
    };
    // Defaults: limits from max, requests from the limits (and the min): within range.
    assert.equal(await check([{ name: "c" }]), "");
    assert.equal(
      await check([{ name: "c", resources: { requests: { cpu: "50m" }, limits: { cpu: "2" } } }]),
      'pods "p" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 2, but provided ratio is 40.000000, maximum cpu usage per Pod is 1500m, but limit is 2]',
    );
    assert.equal(
      await check([
        { name: "a", resources: { requests: { cpu: "800m" }, limits: { cpu: "1" } } },
        { name: "b", resources: { requests: { cpu: "800m" }, limits: { cpu: "1" } } },
      ]),
      'pods "p" is forbidden: maximum cpu usage per Pod is 1500m, but limit is 2',
    );
  });
});
