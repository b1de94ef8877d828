import assert from "node:assert/strict";
import { test } from "node:test";
import type { FieldError } from "#pkg/api/errors.js";
import { ENDPOINTSLICES } from "#pkg/api/resources.js";
import type { EndpointSlice } from "#pkg/api/types/discovery.js";
import { endpointSliceStrategy } from "./strategy.js";

const strategy = endpointSliceStrategy(ENDPOINTSLICES);
const NOW = new Date("2024-05-01T12:00:00Z");

function slice(o: Partial<EndpointSlice>): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc12", namespace: "default", creationTimestamp: "2024-05-01T11:55:00Z" },
    addressType: "IPv4",
    endpoints: [],
    ...o,
  };
}

const errorsOf = (s: EndpointSlice) => {
  const o = structuredClone(s);
  strategy.applyDefaults(o);
  strategy.prepareForCreate(o);
  return strategy.validate(o).map((e: FieldError) => `${e.field}: ${e.message}`);
};

test("ports default to an empty name and TCP; generation starts at 1 and counts body changes", () => {
  const o = slice({ ports: [{ port: 80 }] });
  strategy.applyDefaults(o);
  strategy.prepareForCreate(o);
  assert.deepEqual(o.ports, [{ port: 80, name: "", protocol: "TCP" }]);
  assert.equal(o.metadata.generation, 1);
  const relabel = structuredClone(o);
  relabel.metadata.labels = { a: "b" };
  strategy.prepareForUpdate(relabel, o);
  assert.equal(relabel.metadata.generation, 1);
  const moved = structuredClone(o);
  moved.endpoints = [{ addresses: ["10.0.0.9"] }];
  strategy.prepareForUpdate(moved, o);
  assert.equal(moved.metadata.generation, 2);
});

test("validation: address types, addresses per type, conditions free, ports, hostnames", () => {
  assert.deepEqual(errorsOf(slice({ addressType: "IPX" })), [
    'addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"',
  ]);
  assert.deepEqual(
    errorsOf(
      slice({
        endpoints: [
          { addresses: [] },
          { addresses: ["10.0.0.1", "fd00::1", "0.0.0.0"], hostname: "Bad_Host" },
          { addresses: ["10.0.0.2"], conditions: { ready: false, serving: true, terminating: true }, nodeName: "n1" },
        ],
        ports: [
          { name: "http", port: 80 },
          { name: "http", port: 81, protocol: "QUIC" },
        ],
      }),
    ),
    [
      "endpoints[0].addresses: Required value: must contain at least 1 address",
      'endpoints[1].addresses[1]: Invalid value: "fd00::1": must be a valid IPv4 address',
      'endpoints[1].addresses[2]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0, ::)',
      "endpoints[1].hostname: Invalid value: \"Bad_Host\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'ports[1].name: Duplicate value: "http"',
      'ports[1].protocol: Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP"',
    ],
  );
  assert.deepEqual(errorsOf(slice({ addressType: "FQDN", endpoints: [{ addresses: ["db.example.com", "single"] }] })), [
    'endpoints[0].addresses[1]: Invalid value: "single": should be a domain with at least two segments separated by dots',
  ]);
});

test("addressType is immutable", () => {
  const old = slice({});
  const next = slice({ addressType: "IPv6" });
  assert.deepEqual(
    strategy.validateUpdate(next, old).map((e) => `${e.field}: ${e.message}`),
    ['addressType: Invalid value: "IPv6": field is immutable'],
  );
});

test("columns: NAME ADDRESSTYPE PORTS ENDPOINTS AGE, upstream's cells", () => {
  assert.deepEqual(
    strategy.columns.map((c) => c.name),
    ["Name", "AddressType", "Ports", "Endpoints", "Age"],
  );
  const s = slice({
    endpoints: [
      { addresses: ["10.0.0.1"] },
      { addresses: ["10.0.0.2"] },
      { addresses: ["10.0.0.3"] },
      { addresses: ["10.0.0.4"] },
    ],
    ports: [{ name: "http", port: 80 }, { name: "named" }],
  });
  assert.deepEqual(strategy.row(s, NOW), [
    "web-abc12",
    "IPv4",
    "80,named",
    "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
    "5m",
  ]);
  assert.deepEqual(strategy.row(slice({}), NOW).slice(2, 4), ["<unset>", "<unset>"]);
});
