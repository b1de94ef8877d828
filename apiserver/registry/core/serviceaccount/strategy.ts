import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ServiceAccount } from "#pkg/api/types/core.js";
import { age, ageCol, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

export function serviceAccountStrategy(r: ResourceInfo): Strategy<ServiceAccount> {
  return makeStrategy<ServiceAccount>(
    r,
    {
      returnDeletedObject: true,
      columns: [
        nameCol(),
        col(
          "Secrets",
          "string",
          "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
        ),
        ageCol(),
      ],
      row: (sa, now) => [sa.metadata.name ?? "", (sa.secrets ?? []).length, age(sa, now)],
    },
    { hasStatus: false },
  );
}
