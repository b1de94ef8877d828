import assert from "node:assert/strict";
import { test } from "node:test";
import {
  boolArg,
  componentCommand,
  durationArg,
  envName,
  flag,
  listArg,
  portArg,
  positiveDurationArg,
} from "./flags.js";

test("envName: <PREFIX><FLAG>, KUBELING_ by default", () => {
  assert.equal(envName("--etcd-servers"), "KUBELING_ETCD_SERVERS");
  assert.equal(envName("secure-port"), "KUBELING_SECURE_PORT");
  assert.equal(envName("--port", "KUBELING_KUBELET_"), "KUBELING_KUBELET_PORT");
});

function cmd() {
  return componentCommand("kubeling-test", "a test component", "KUBELING_TEST_")
    .addOption(flag("--port <port>", "port", { default: 10259, parse: portArg }))
    .addOption(flag("--period <duration>", "period", { default: 2000, defaultDescription: "2s", parse: durationArg }))
    .addOption(flag("--leader-elect [bool]", "elect", { default: true, parse: boolArg }))
    .addOption(flag("--servers <urls>", "servers", { parse: listArg }))
    .addOption(flag("--kubeconfig <path>", "kubeconfig", { env: "KUBECONFIG" }))
    .exitOverride();
}

test("flag: defaults, parsing, flag over environment over default", () => {
  const env = { ...process.env };
  try {
    process.env.KUBELING_TEST_PERIOD = "1m";
    process.env.KUBECONFIG = "/tmp/kc";
    process.env.KUBELING_TEST_PORT = "1";
    // Another component's variable: not ours.
    process.env.KUBELING_SERVERS = "x";
    const c = cmd();
    c.parse(["node", "x", "--port", "8080", "--servers", "a,b", "--leader-elect", "false"]);
    assert.deepEqual(c.opts(), {
      port: 8080,
      period: 60_000,
      leaderElect: false,
      servers: ["a", "b"],
      kubeconfig: "/tmp/kc",
    });
  } finally {
    process.env = env;
  }
});

test("flag: --help shows the environment variable and the default", () => {
  const help = cmd().helpInformation();
  assert.match(help, /--period <duration>\s+period \(default: 2s, env: KUBELING_TEST_PERIOD\)/);
  assert.match(help, /--kubeconfig <path>\s+kubeconfig \(env: KUBECONFIG\)/);
});

test("flag: bad values are rejected with the flag named", () => {
  assert.throws(
    () =>
      cmd()
        .configureOutput({ writeErr: () => {} })
        .parse(["node", "x", "--port", "70000"]),
    /invalid port/,
  );
  assert.throws(
    () =>
      cmd()
        .configureOutput({ writeErr: () => {} })
        .parse(["node", "x", "--period", "soon"]),
    /invalid duration/,
  );
});

test("durationArg: Go durations, 0 allowed, negative ones refused; positiveDurationArg refuses 0 too", () => {
  assert.equal(durationArg("1m30s"), 90_000);
  assert.equal(durationArg("0"), 0);
  assert.throws(() => durationArg("-2s"), /invalid duration "-2s": must not be negative/);
  assert.equal(positiveDurationArg("500ms"), 500);
  assert.throws(() => positiveDurationArg("0s"), /invalid duration "0s": must be greater than 0/);
  assert.throws(() => positiveDurationArg("-1s"), /must not be negative/);
  assert.throws(() => positiveDurationArg("soon"), /invalid duration "soon"/);
});
