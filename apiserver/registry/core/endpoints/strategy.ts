// core/v1 Endpoints (upstream pkg/registry/core/endpoints/strategy.go, printers.go).

import { isIP } from "node:net";
import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { EndpointAddress, Endpoints } from "#pkg/api/types/core.js";
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  INVALID_IP_ERROR,
  PROTOCOLS,
  qualifiedNameErrors,
  validateNonSpecialIP,
  validatePortNumber,
} from "#pkg/api/validation.js";
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

/** upstream validateEndpointAddress. */
function validateAddress(a: EndpointAddress, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isIP(a.ip ?? "") === 0) return [fieldInvalid(`${path}.ip`, a.ip ?? "", INVALID_IP_ERROR)];
  if (a.hostname)
    for (const m of dns1123LabelErrors(a.hostname)) errs.push(fieldInvalid(`${path}.hostname`, a.hostname, m));
  if (a.nodeName !== undefined)
    for (const m of dns1123SubdomainErrors(a.nodeName)) errs.push(fieldInvalid(`${path}.nodeName`, a.nodeName, m));
  errs.push(...validateNonSpecialIP(a.ip, `${path}.ip`, { allowLoopback: true }));
  return errs;
}

/** upstream ValidateEndpoints (validateEndpointSubsets, validateEndpointPort). */
function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length)
      errs.push(fieldRequired(p, "must specify `addresses` or `notReadyAddresses`"));
    for (const kind of ["addresses", "notReadyAddresses"] as const)
      (ss[kind] ?? []).forEach((a, j) => {
        errs.push(...validateAddress(a, `${p}.${kind}[${j}]`));
      });
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !port.name) errs.push(fieldRequired(`${pp}.name`));
      else if (port.name)
        errs.push(...dns1123LabelErrors(port.name).map((m) => fieldInvalid(`${pp}.name`, port.name, m)));
      errs.push(...validatePortNumber(port.port, `${pp}.port`));
      if (!port.protocol) errs.push(fieldRequired(`${pp}.protocol`));
      else if (!(PROTOCOLS as readonly string[]).includes(port.protocol))
        errs.push(fieldNotSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
      if (port.appProtocol !== undefined)
        for (const m of qualifiedNameErrors(port.appProtocol))
          errs.push(fieldInvalid(`${pp}.appProtocol`, port.appProtocol, m));
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
