import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SchedulerCache } from "./cache.js";
import { makeNode, makePod } from "./testing.js";

describe("SchedulerCache", () => {
  test("assume counts a pod before binding; forget releases it; the informer confirms it", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("n", { cpu: "2" }));
    const pod = makePod("p", { cpu: "1", nodeName: "n" });
    c.assumePod(pod);
    assert.equal(c.getNodeInfo("n")?.requested.cpu, 1000);
    assert.equal(c.isAssumed("default/p"), true);
    c.forgetPod(pod);
    assert.equal(c.getNodeInfo("n")?.requested.cpu, 0);
    c.assumePod(pod);
    c.addPod(pod); // informer shows the binding
    assert.equal(c.isAssumed("default/p"), false);
    assert.equal(c.getNodeInfo("n")?.requested.cpu, 1000);
    c.forgetPod(pod); // a confirmed pod is not forgotten
    assert.equal(c.getNodeInfo("n")?.pods.size, 1);
  });

  test("a confirmation on another node moves the pod", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("a"));
    c.addNode(makeNode("b"));
    c.assumePod(makePod("p", { cpu: "1", nodeName: "a" }));
    c.addPod(makePod("p", { cpu: "1", nodeName: "b" }));
    assert.equal(c.getNodeInfo("a")?.pods.size, 0);
    assert.equal(c.getNodeInfo("b")?.pods.size, 1);
  });

  test("pods may arrive before their node; removed nodes are not offered", () => {
    const c = new SchedulerCache();
    c.addPod(makePod("p", { nodeName: "later" }));
    assert.equal(c.nodeInfos().length, 0);
    c.addNode(makeNode("later"));
    assert.deepEqual(
      c.nodeInfos().map((n) => [n.name, n.pods.size]),
      [["later", 1]],
    );
    c.removeNode("later");
    assert.equal(c.nodeInfos().length, 0);
    c.removePod("default/p");
    assert.equal(c.getNodeInfo("later"), undefined);
  });
});
