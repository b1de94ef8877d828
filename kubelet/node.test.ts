import assert from "node:assert/strict";
import { test } from "node:test";
import { ANN_KUBELET_ROOT_DIR } from "#pkg/api/node-annotations.js";
import { NODES } from "#pkg/api/resources.js";
import type { Node } from "#pkg/api/types/index.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { NodeManager } from "./node.js";

const manager = (client: FakeClient, rootDir: string) =>
  new NodeManager({
    client,
    log: silentLogger,
    nodeName: "node-1",
    nodeIP: "127.0.0.1",
    port: 10250,
    labels: {},
    annotations: { [ANN_KUBELET_ROOT_DIR]: rootDir },
    taints: [],
    maxPods: 110,
    runtimeVersion: "docker://test",
  });

test("the Node carries the kubelet's root dir, at registration and when an existing Node is adopted", async () => {
  const client = new FakeClient();
  await manager(client, "/var/lib/k/node-1").register();
  const created = client.object<Node>(NODES, undefined, "node-1");
  assert.equal(created?.metadata.annotations?.[ANN_KUBELET_ROOT_DIR], "/var/lib/k/node-1");

  // A Node that lost the annotation (or a kubelet started with another root dir), keeping others.
  const cur = client.object<Node>(NODES, undefined, "node-1") as Node;
  await client.update(NODES, undefined, { ...cur, metadata: { ...cur.metadata, annotations: { keep: "me" } } });
  await manager(client, "/srv/k/node-1").register();
  const adopted = client.object<Node>(NODES, undefined, "node-1");
  assert.deepEqual(adopted?.metadata.annotations, { keep: "me", [ANN_KUBELET_ROOT_DIR]: "/srv/k/node-1" });
});
