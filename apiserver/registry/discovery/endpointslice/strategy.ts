// discovery.k8s.io/v1 EndpointSlice (upstream pkg/registry/discovery/endpointslice/strategy.go,
// the validation of pkg/apis/discovery/validation, SetDefaults_EndpointPort, and the printers'
// NAME ADDRESSTYPE PORTS ENDPOINTS AGE).

import { isIP } from "node:net";
import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Endpoint, EndpointSlice, EndpointSlicePort } from "#pkg/api/types/discovery.js";
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  fieldDuplicate,
  fieldImmutable,
  nameIsDNSSubdomain,
  PROTOCOLS,
  qualifiedNameErrors,
  validateFullyQualifiedDomainName,
  validateLabels,
  validateNonSpecialIP,
} from "#pkg/api/validation.js";
import { age, ageCol, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"] as const;
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_HINTS = 8;

function tooMany(field: string, actual: number, max: number): FieldError {
  return { field, type: "FieldValueTooMany", message: `Too many: ${actual}: must have at most ${max} items` };
}

/** upstream printers' listWithMoreString: up to three, then " + N more...", "<unset>" when empty. */
function listWithMore(all: string[]): string {
  const max = 3;
  const s = all.slice(0, max).join(",");
  if (all.length > max) return `${s} + ${all.length - max} more...`;
  return s === "" ? "<unset>" : s;
}

/** The PORTS cell: each port's number, else its name, else "*". */
export function formatSlicePorts(ports: readonly EndpointSlicePort[] | undefined): string {
  return listWithMore((ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? "*"))));
}

/** The ENDPOINTS cell: every endpoint's addresses. */
export function formatSliceEndpoints(endpoints: readonly Endpoint[] | undefined): string {
  return listWithMore((endpoints ?? []).flatMap((e) => e.addresses ?? []));
}

function validateAddress(addressType: string, address: string, path: string): FieldError[] {
  switch (addressType) {
    case "IPv4":
      if (isIP(address) !== 4) return [fieldInvalid(path, address, "must be a valid IPv4 address")];
      return validateNonSpecialIP(address, path, { allowLoopback: true });
    case "IPv6":
      if (isIP(address) !== 6) return [fieldInvalid(path, address, "must be a valid IPv6 address")];
      return validateNonSpecialIP(address, path, { allowLoopback: true });
    case "FQDN":
      return validateFullyQualifiedDomainName(address, path);
    default:
      return [];
  }
}

function validateEndpoints(slice: EndpointSlice): FieldError[] {
  const errs: FieldError[] = [];
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany("endpoints", endpoints.length, MAX_ENDPOINTS)];
  endpoints.forEach((ep, i) => {
    const p = `endpoints[${i}]`;
    const addrs = ep.addresses ?? [];
    if (addrs.length === 0) errs.push(fieldRequired(`${p}.addresses`, "must contain at least 1 address"));
    else if (addrs.length > MAX_ADDRESSES) errs.push(tooMany(`${p}.addresses`, addrs.length, MAX_ADDRESSES));
    addrs.forEach((a, j) => {
      errs.push(...validateAddress(slice.addressType, a, `${p}.addresses[${j}]`));
    });
    if (ep.nodeName !== undefined)
      for (const m of dns1123SubdomainErrors(ep.nodeName)) errs.push(fieldInvalid(`${p}.nodeName`, ep.nodeName, m));
    const topology = ep.deprecatedTopology ?? {};
    if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS)
      errs.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(topology, `${p}.deprecatedTopology`));
    if ("topology.kubernetes.io/zone" in topology)
      errs.push({
        field: `${p}.deprecatedTopology[topology.kubernetes.io/zone]`,
        type: "InternalError",
        message: "Internal error: reserved key, use zone instead",
      });
    if (ep.hostname !== undefined)
      for (const m of dns1123LabelErrors(ep.hostname)) errs.push(fieldInvalid(`${p}.hostname`, ep.hostname, m));
    const hints = ep.hints;
    if (hints) {
      for (const [key, list] of [
        ["forZones", hints.forZones ?? []],
        ["forNodes", hints.forNodes ?? []],
      ] as const) {
        if (list.length > MAX_HINTS) errs.push(tooMany(`${p}.hints.${key}`, list.length, MAX_HINTS));
        const seen = new Set<string>();
        list.forEach((h, k) => {
          if (seen.has(h.name)) errs.push(fieldDuplicate(`${p}.hints.${key}[${k}].name`, h.name));
          seen.add(h.name);
        });
      }
    }
  });
  return errs;
}

function validatePorts(ports: readonly EndpointSlicePort[]): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany("ports", ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `ports[${i}]`;
    const name = port.name ?? "";
    if (name) for (const m of dns1123LabelErrors(name)) errs.push(fieldInvalid(`${p}.name`, name, m));
    if (names.has(name)) errs.push(fieldDuplicate(`${p}.name`, name));
    names.add(name);
    if (!port.protocol) errs.push(fieldRequired(`${p}.protocol`));
    else if (!(PROTOCOLS as readonly string[]).includes(port.protocol))
      errs.push(fieldNotSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    if (port.appProtocol !== undefined)
      for (const m of qualifiedNameErrors(port.appProtocol))
        errs.push(fieldInvalid(`${p}.appProtocol`, port.appProtocol, m));
  });
  return errs;
}

/** upstream ValidateEndpointSlice. */
export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs: FieldError[] = [];
  if (!slice.addressType) errs.push(fieldRequired("addressType"));
  else if (!(ADDRESS_TYPES as readonly string[]).includes(slice.addressType))
    errs.push(fieldNotSupported("addressType", slice.addressType, ADDRESS_TYPES));
  errs.push(...validateEndpoints(slice));
  errs.push(...validatePorts(slice.ports ?? []));
  return errs;
}

/** What a generation counts: everything but metadata. */
const body = (s: EndpointSlice) => ({ addressType: s.addressType, endpoints: s.endpoints, ports: s.ports });

export function endpointSliceStrategy(r: ResourceInfo): Strategy<EndpointSlice> {
  return makeStrategy<EndpointSlice>(
    r,
    {
      nameValidator: nameIsDNSSubdomain,
      applyDefaults(slice) {
        // upstream SetDefaults_EndpointPort: an empty name and TCP.
        for (const p of slice.ports ?? []) {
          if (!p || typeof p !== "object") continue;
          p.name ??= "";
          p.protocol ??= "TCP";
        }
      },
      prepareForCreate(slice) {
        slice.metadata.generation = 1;
        slice.endpoints ??= [];
      },
      prepareForUpdate(slice, old) {
        slice.endpoints ??= [];
        const gen = old.metadata.generation ?? 1;
        slice.metadata.generation = deepEqual(body(slice), body(old)) ? gen : gen + 1;
      },
      validate: validateEndpointSlice,
      validateUpdate(slice, old) {
        const errs = validateEndpointSlice(slice);
        if (slice.addressType !== old.addressType) errs.push(fieldImmutable("addressType", slice.addressType));
        return errs;
      },
      columns: [
        nameCol(),
        col(
          "AddressType",
          "string",
          "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type.",
        ),
        col("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice."),
        col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
        ageCol(),
      ],
      row: (s, now) => [
        s.metadata.name ?? "",
        s.addressType ?? "",
        formatSlicePorts(s.ports),
        formatSliceEndpoints(s.endpoints),
        age(s, now),
      ],
    },
    { hasStatus: false },
  );
}
