// kubectl describe priorityclass (describe.go describePriorityClass): value, globalDefault,
// preemption policy, description, annotations; the events follow (describe.ts).

import type { PriorityClass } from "#pkg/api/types/scheduling.js";
import { labelsString } from "../format.js";
import type { PrefixWriter } from "./writer.js";

export function describePriorityClass(w: PrefixWriter, pc: PriorityClass): void {
  w.write(0, `Name:\t${pc.metadata.name ?? ""}\n`);
  w.write(0, `Value:\t${pc.value ?? 0}\n`);
  w.write(0, `GlobalDefault:\t${pc.globalDefault ?? false}\n`);
  w.write(0, `PreemptionPolicy:\t${pc.preemptionPolicy ?? ""}\n`);
  w.write(0, `Description:\t${pc.description ?? ""}\n`);
  w.write(0, `Annotations:\t${labelsString(pc.metadata.annotations)}\n`);
}
