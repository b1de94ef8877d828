import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { addLeaderElectionFlags, type LeaderElectionFlags, leaderElectionConfig } from "./leader-config.js";

const parse = (...args: string[]) =>
  addLeaderElectionFlags(new Command().exitOverride(), { namespace: "kube-system", name: "x", what: "acting" })
    .parse(["node", "x", ...args])
    .opts<LeaderElectionFlags>();

test("the --leader-elect* flags: upstream's defaults, as an app's config in seconds", () => {
  assert.deepEqual(leaderElectionConfig(parse()), {
    leaderElect: true,
    leaseNamespace: "kube-system",
    leaseName: "x",
    leaseDurationSeconds: 15,
    renewDeadlineSeconds: 10,
    retryPeriodSeconds: 2,
  });
  const c = leaderElectionConfig(parse("--leader-elect=false", "--leader-elect-retry-period=500ms"));
  assert.equal(c.leaderElect, false);
  assert.equal(c.retryPeriodSeconds, 0.5);
  assert.throws(() => parse("--leader-elect-lease-duration=0s"), /greater than 0/);
});
