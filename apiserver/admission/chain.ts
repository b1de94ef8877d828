// The admission chain (upstream: apiserver/pkg/admission chain.go and the handlers' use of it):
// every write the generic store makes passes the mutating plugins (admit), in order, before the
// kind's strategy prepares and validates it, then the validating plugins (validate), in order,
// right before it is stored. A plugin refuses by throwing (a StatusError, usually Forbidden);
// the first refusal ends the request.

import type { Attributes, Operation } from "./attributes.js";

export interface AdmissionPlugin {
  /** The name --enable-admission-plugins knows it by, e.g. "PodSecurity". */
  readonly name: string;
  /** upstream Handles: the operations the plugin looks at. */
  handles(op: Operation): boolean;
  /** upstream MutationInterface.Admit: may change a.object. */
  admit?(a: Attributes): Promise<void>;
  /** upstream ValidationInterface.Validate: must not change anything. */
  validate?(a: Attributes): Promise<void>;
}

export class AdmissionChain {
  readonly plugins: readonly AdmissionPlugin[];

  constructor(plugins: readonly AdmissionPlugin[]) {
    this.plugins = plugins;
  }

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /** Runs the mutating plugins that handle a.operation, in order. */
  async admit(a: Attributes): Promise<void> {
    for (const p of this.plugins) if (p.admit && p.handles(a.operation)) await p.admit(a);
  }

  /** Runs the validating plugins that handle a.operation, in order. */
  async validate(a: Attributes): Promise<void> {
    for (const p of this.plugins) if (p.validate && p.handles(a.operation)) await p.validate(a);
  }
}

/** A chain that admits everything (no plugins). */
export const EMPTY_CHAIN = new AdmissionChain([]);
