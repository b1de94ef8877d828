import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ContainerPort } from "#pkg/api/types/index.js";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { nodePorts } from "./node-ports.js";

const withPorts = (name: string, ports: ContainerPort[], nodeName?: string) =>
  makePod(name, { ...(nodeName ? { nodeName } : {}), spec: { containers: [{ name: "c", ports }] } });

describe("NodePorts", () => {
  test("the same host port and protocol conflicts; another protocol or address does not", () => {
    const n = nodeInfo(
      makeNode("n"),
      withPorts("a", [{ containerPort: 80, hostPort: 8080 }], "n"),
      withPorts("b", [{ containerPort: 53, hostPort: 53, protocol: "UDP", hostIP: "10.0.0.1" }], "n"),
    );
    const s = nodePorts.filter(new CycleState(), withPorts("p", [{ containerPort: 80, hostPort: 8080 }]), n);
    assert.deepEqual(
      [s.code, s.reasons],
      ["Unschedulable", ["node(s) didn't have free ports for the requested pod ports"]],
    );
    const udp = withPorts("q", [{ containerPort: 80, hostPort: 8080, protocol: "UDP" }]);
    assert.equal(nodePorts.filter(new CycleState(), udp, n).code, "Success");
    const otherIP = withPorts("r", [{ containerPort: 53, hostPort: 53, protocol: "UDP", hostIP: "10.0.0.2" }]);
    assert.equal(nodePorts.filter(new CycleState(), otherIP, n).code, "Success");
    const anyIP = withPorts("s", [{ containerPort: 53, hostPort: 53, protocol: "UDP" }]);
    assert.equal(nodePorts.filter(new CycleState(), anyIP, n).code, "Unschedulable");
    assert.equal(nodePorts.filter(new CycleState(), makePod("t"), n).code, "Success");
  });
});
