// AlwaysAdmit and AlwaysDeny (upstream plugin/pkg/admission/admit and deny): test plugins,
// off unless enabled. AlwaysDeny refuses every write with upstream's message.

import type { Attributes } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import { admissionForbidden } from "../errors.js";

export const ALWAYS_ADMIT = "AlwaysAdmit";
export const ALWAYS_DENY = "AlwaysDeny";

export function newAlwaysAdmit(): AdmissionPlugin {
  return { name: ALWAYS_ADMIT, handles: () => true, admit: async () => {}, validate: async () => {} };
}

export function newAlwaysDeny(): AdmissionPlugin {
  const deny = async (a: Attributes) => {
    throw admissionForbidden(a, "admission control is denying all modifications");
  };
  return { name: ALWAYS_DENY, handles: () => true, admit: deny, validate: deny };
}
