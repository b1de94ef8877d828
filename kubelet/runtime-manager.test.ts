import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "#pkg/api/types/index.js";
import { restartsOfRemoved } from "./runtime-manager.js";

describe("restartsOfRemoved", () => {
  const pod = (status: Pod["status"]): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default" },
    spec: { containers: [{ name: "app", image: "x" }] },
    ...(status ? { status } : {}),
  });
  const app = { name: "app", image: "x" };

  test("a container that never started counts from 0", () => {
    assert.equal(restartsOfRemoved(pod(undefined), app, "app"), 0);
    assert.equal(
      restartsOfRemoved(
        pod({ containerStatuses: [{ name: "app", image: "x", imageID: "", ready: false, restartCount: 0 }] }),
        app,
        "app",
      ),
      0,
    );
  });

  test("a removed container that had started counts one more restart than its last status", () => {
    const st = { name: "app", image: "x", imageID: "", ready: true, restartCount: 2, containerID: "docker://abc" };
    assert.equal(restartsOfRemoved(pod({ containerStatuses: [st] }), app, "app"), 3);
    assert.equal(restartsOfRemoved(pod({ initContainerStatuses: [st] }), app, "init"), 3);
    assert.equal(restartsOfRemoved(pod({ initContainerStatuses: [st] }), app, "app"), 0);
  });
});
