import assert from "node:assert/strict";
import { test } from "node:test";
import { buildCommand, parseFlags } from "./flags.js";

const argv = (...flags: string[]) => ["node", "kubelet", ...flags];

test("--help lists every flag with its environment variable", () => {
  const help = buildCommand().helpInformation();
  for (const [name, env] of [
    ["--kubeconfig", "KUBECONFIG"],
    ["--hostname-override", "KUBELING_NODE_NAME"],
    ["--log-level", "LOG_LEVEL"],
    ["--port", "KUBELING_KUBELET_PORT"],
    ["--cluster-name", "KUBELING_KUBELET_CLUSTER_NAME"],
    ["--crashloop-backoff-base", "KUBELING_KUBELET_CRASHLOOP_BACKOFF_BASE"],
  ])
    assert.match(help, new RegExp(`${name} .*env: ${env}\\)`), name);
  assert.match(help, /--port <port> .*default: 10250/);
  assert.match(help, /--backoff-max <duration> .*default: 300s/);
});

test("defaults, durations, lists; flag over environment", () => {
  const f = parseFlags(argv("--backoff-max=1m", "--cluster-dns=10.96.0.10, 10.96.0.11"));
  assert.equal(f.port, 10250);
  assert.equal(f.healthzPort, 10248);
  assert.equal(f.healthzBindAddress, "127.0.0.1");
  assert.equal(parseFlags(argv("--healthz-port=0")).healthzPort, 0);
  assert.equal(f.address, "0.0.0.0");
  assert.equal(f.clusterName, "kubeling");
  assert.equal(f.maxPods, 110);
  assert.equal(f.crashloopBackoffBase, 10_000);
  assert.equal(f.backoffMax, 60_000);
  assert.equal(f.nodeStatusUpdateFrequency, 10_000);
  assert.equal(f.nodeLeaseDurationSeconds, 40);
  assert.equal(parseFlags(argv("--node-lease-duration-seconds=4")).nodeLeaseDurationSeconds, 4);
  assert.deepEqual(f.clusterDns, ["10.96.0.10", "10.96.0.11"]);
  assert.equal(f.clusterDomain, "cluster.local");

  const env = { ...process.env };
  try {
    process.env.KUBELING_NODE_NAME = "from-env";
    process.env.KUBELING_KUBELET_MAX_PODS = "7";
    // The API server's and compose's variables are not the kubelet's.
    process.env.KUBELING_PORT = "1";
    process.env.KUBELING_ADDRESS = "10.0.0.1";
    process.env.KUBELING_CLUSTER_NAME = "compose-cluster";
    const e = parseFlags(argv());
    assert.equal(e.hostnameOverride, "from-env");
    assert.equal(e.maxPods, 7);
    assert.equal(e.port, 10250);
    assert.equal(e.address, "0.0.0.0");
    assert.equal(e.clusterName, "kubeling");
    assert.equal(parseFlags(argv("--hostname-override=from-flag")).hostnameOverride, "from-flag");
  } finally {
    process.env = env;
  }
});

test("periods and backoffs must be > 0", () => {
  for (const bad of ["--node-status-update-frequency=0s", "--backoff-max=-1s", "--crashloop-backoff-base=0"]) {
    const c = buildCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {} });
    assert.throws(() => c.parse(argv(bad)), /invalid duration/, bad);
  }
});
