// Leader election as a component configures it (upstream: component-base's
// LeaderElectionConfiguration and its --leader-elect* flags), shared by the scheduler and the
// controller manager: the flags, the parsed values, and the LeaderElector built from them.

import type { Command } from "commander";
import type { ApiClient } from "../client/client.js";
import type { Clock } from "../runtime/clock.js";
import { boolArg, flag, positiveDurationArg } from "../runtime/flags.js";
import type { Logger } from "../runtime/log.js";
import { LeaderElector } from "./leader.js";

/** What a component's app takes (every field optional: upstream's defaults). */
export interface LeaderElectionConfig {
  /** Default true, as upstream. */
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  /** Candidate identity; default `${hostname}_${uuid}` as upstream. */
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

/** The parsed --leader-elect* flags (durations in milliseconds). */
export interface LeaderElectionFlags {
  leaderElect: boolean;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
}

/** Adds upstream's --leader-elect* flags; `what` ends "elect a leader on a Lease before ...". */
export function addLeaderElectionFlags(
  cmd: Command,
  lease: { namespace: string; name: string; what: string },
): Command {
  // Periods: 0 or less would spin (or never renew).
  const duration = (ms: number, shown: string) => ({
    default: ms,
    defaultDescription: shown,
    parse: positiveDurationArg,
  });
  return cmd
    .addOption(
      flag("--leader-elect [bool]", `elect a leader on a Lease before ${lease.what} (true|false)`, {
        default: true,
        parse: boolArg,
      }),
    )
    .addOption(
      flag("--leader-elect-resource-namespace <ns>", "namespace of the leader Lease", { default: lease.namespace }),
    )
    .addOption(flag("--leader-elect-resource-name <name>", "name of the leader Lease", { default: lease.name }))
    .addOption(flag("--leader-elect-lease-duration <dur>", "lease duration", duration(15_000, "15s")))
    .addOption(flag("--leader-elect-renew-deadline <dur>", "renew deadline", duration(10_000, "10s")))
    .addOption(flag("--leader-elect-retry-period <dur>", "retry period", duration(2_000, "2s")));
}

/** The flags as an app's LeaderElectionConfig. */
export function leaderElectionConfig(f: LeaderElectionFlags): LeaderElectionConfig {
  return {
    leaderElect: f.leaderElect,
    leaseNamespace: f.leaderElectResourceNamespace,
    leaseName: f.leaderElectResourceName,
    leaseDurationSeconds: f.leaderElectLeaseDuration / 1000,
    renewDeadlineSeconds: f.leaderElectRenewDeadline / 1000,
    retryPeriodSeconds: f.leaderElectRetryPeriod / 1000,
  };
}

/** The LeaderElector of a config, on the component's default Lease unless it names another. */
export function newLeaderElector(
  client: ApiClient,
  c: LeaderElectionConfig,
  o: { namespace: string; name: string; identity: string; log: Logger; clock?: Clock },
): LeaderElector {
  return new LeaderElector(client, {
    namespace: c.leaseNamespace ?? o.namespace,
    name: c.leaseName ?? o.name,
    identity: o.identity,
    log: o.log,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(c.leaseDurationSeconds ? { leaseDurationSeconds: c.leaseDurationSeconds } : {}),
    ...(c.renewDeadlineSeconds ? { renewDeadlineSeconds: c.renewDeadlineSeconds } : {}),
    ...(c.retryPeriodSeconds ? { retryPeriodSeconds: c.retryPeriodSeconds } : {}),
  });
}
