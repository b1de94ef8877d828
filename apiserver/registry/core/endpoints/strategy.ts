// core/v1 Endpoints (upstream pkg/registry/core/endpoints/strategy.go, printers.go).

import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Endpoints } from "#pkg/api/types/core.js";
import { dns1123LabelErrors, PROTOCOLS, validatePortNumber } from "#pkg/api/validation.js";
import { age, ageCol, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

/** The Endpoints cell: up to three "ip:port", then " + N more...". */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) more = true;
        else list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          continue;
        }
        list.push(a.ip.includes(":") ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const s = list.join(",");
  return more ? `${s} + ${count - max} more...` : s;
}

function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    for (const kind of ["addresses", "notReadyAddresses"] as const) {
      (ss[kind] ?? []).forEach((a, j) => {
        if (!a.ip) errs.push(fieldRequired(`${p}.${kind}[${j}].ip`));
      });
    }
    (ss.ports ?? []).forEach((port, j) => {
      errs.push(...validatePortNumber(port.port, `${p}.ports[${j}].port`));
      if ((ss.ports?.length ?? 0) > 1 && !port.name) errs.push(fieldRequired(`${p}.ports[${j}].name`));
      if (port.name)
        errs.push(...dns1123LabelErrors(port.name).map((m) => fieldInvalid(`${p}.ports[${j}].name`, port.name, m)));
      if (port.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(port.protocol)) {
        errs.push(fieldNotSupported(`${p}.ports[${j}].protocol`, port.protocol, PROTOCOLS));
      }
    });
  });
  return errs;
}

export function endpointsStrategy(r: ResourceInfo): Strategy<Endpoints> {
  return makeStrategy<Endpoints>(
    r,
    {
      allowCreateOnUpdate: true,
      applyDefaults(ep) {
        for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ??= "TCP";
      },
      validate: validateEndpoints,
      validateUpdate: validateEndpoints,
      columns: [
        nameCol(),
        col("Endpoints", "string", "The set of all endpoints is the union of all subsets."),
        ageCol(),
      ],
      row: (ep, now) => [ep.metadata.name ?? "", formatEndpoints(ep), age(ep, now)],
    },
    { hasStatus: false },
  );
}
