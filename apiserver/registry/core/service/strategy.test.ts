import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FieldError } from "#pkg/api/errors.js";
import { SERVICES } from "#pkg/api/resources.js";
import type { Service, ServiceSpec } from "#pkg/api/types/core.js";
import { parsePortRange } from "./allocator.js";
import { initIPFamilyFields } from "./storage.js";
import { serviceStrategy } from "./strategy.js";

const strategy = serviceStrategy(SERVICES);

function svc(spec: ServiceSpec, name = "web"): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec };
}

function created(spec: ServiceSpec): { obj: Service; errors: string[] } {
  const o = structuredClone(svc(spec));
  strategy.applyDefaults(o);
  strategy.prepareForCreate(o);
  return { obj: o, errors: strategy.validate(o).map(render) };
}

function updated(next: Service, old: Service): { obj: Service; errors: string[] } {
  const o = structuredClone(next);
  strategy.applyDefaults(o);
  strategy.prepareForUpdate(o, old);
  return { obj: o, errors: strategy.validateUpdate(o, old).map(render) };
}

const render = (e: FieldError) => `${e.field}: ${e.message}`;

/** A stored ClusterIP service as the allocating storage leaves it. */
function stored(spec: ServiceSpec): Service {
  const { obj, errors } = created(spec);
  assert.deepEqual(errors, []);
  initIPFamilyFields(obj, undefined);
  if (obj.spec?.type !== "ExternalName" && obj.spec?.clusterIP !== "None") {
    obj.spec!.clusterIP = "10.96.0.10";
    obj.spec!.clusterIPs = ["10.96.0.10"];
  }
  return obj;
}

describe("Service defaults (SetDefaults_Service)", () => {
  test("ClusterIP: type, affinity, protocol, targetPort, internalTrafficPolicy; no externalTrafficPolicy", () => {
    const { obj, errors } = created({ selector: { app: "web" }, ports: [{ port: 80 }] });
    assert.deepEqual(errors, []);
    assert.deepEqual(obj.spec, {
      selector: { app: "web" },
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      sessionAffinity: "None",
      type: "ClusterIP",
      internalTrafficPolicy: "Cluster",
    });
  });

  test("LoadBalancer: externalTrafficPolicy Cluster and allocateLoadBalancerNodePorts; ClientIP affinity timeout", () => {
    const { obj } = created({ type: "LoadBalancer", sessionAffinity: "ClientIP", ports: [{ port: 80 }] });
    assert.equal(obj.spec?.externalTrafficPolicy, "Cluster");
    assert.equal(obj.spec?.allocateLoadBalancerNodePorts, true);
    assert.deepEqual(obj.spec?.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  });

  test("a ClusterIP service with externalIPs is externally accessible", () => {
    const { obj } = created({ externalIPs: ["192.0.2.7"], ports: [{ port: 80 }] });
    assert.equal(obj.spec?.externalTrafficPolicy, "Cluster");
  });

  test("clusterIP given alone fills clusterIPs", () => {
    assert.deepEqual(created({ clusterIP: "10.96.0.9", ports: [{ port: 80 }] }).obj.spec?.clusterIPs, ["10.96.0.9"]);
  });
});

describe("Service IP families (single-stack IPv4 cluster)", () => {
  const init = (spec: ServiceSpec, old?: Service) => {
    const s = svc(spec);
    initIPFamilyFields(s, old);
    return s.spec;
  };
  test("SingleStack IPv4 by default; headless with a selector too", () => {
    assert.deepEqual(init({ ports: [{ port: 80 }] }), {
      ports: [{ port: 80 }],
      ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"],
    });
    const h = init({ clusterIP: "None", clusterIPs: ["None"], selector: { a: "b" } });
    assert.equal(h?.ipFamilyPolicy, "SingleStack");
    assert.deepEqual(h?.ipFamilies, ["IPv4"]);
  });

  test("headless without a selector: RequireDualStack, both families (as upstream)", () => {
    const h = init({ clusterIP: "None", clusterIPs: ["None"] });
    assert.equal(h?.ipFamilyPolicy, "RequireDualStack");
    assert.deepEqual(h?.ipFamilies, ["IPv4", "IPv6"]);
  });

  test("PreferDualStack stays single; RequireDualStack and IPv6 are refused", () => {
    assert.deepEqual(init({ ipFamilyPolicy: "PreferDualStack" })?.ipFamilies, ["IPv4"]);
    assert.throws(
      () => init({ ipFamilyPolicy: "RequireDualStack" }),
      /spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services/,
    );
    assert.throws(
      () => init({ ipFamilies: ["IPv6"] }),
      /spec.ipFamilies\[0\]: Invalid value: "IPv6": not configured on this cluster/,
    );
    assert.throws(
      () => init({ clusterIP: "fd00::5", clusterIPs: ["fd00::5"] }),
      /spec.clusterIPs\[0\]: Invalid value: \[\]string\{"fd00::5"\}: IPv6 is not configured on this cluster/,
    );
  });

  test("an update keeps the old policy; ExternalName gets none", () => {
    const old = svc({ ipFamilyPolicy: "PreferDualStack", ipFamilies: ["IPv4"] });
    assert.equal(init({ ipFamilies: ["IPv4"] }, old)?.ipFamilyPolicy, "PreferDualStack");
    assert.deepEqual(init({ type: "ExternalName", externalName: "example.com" }), {
      type: "ExternalName",
      externalName: "example.com",
    });
  });
});

describe("Service validation (ValidateService)", () => {
  test("types and headless", () => {
    assert.deepEqual(created({ type: "Weird", ports: [{ port: 80 }] }).errors, [
      'spec.type: Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
    assert.deepEqual(created({ clusterIP: "None" }).errors, []);
    assert.deepEqual(created({ type: "NodePort", clusterIP: "None", ports: [{ port: 80 }] }).errors, [
      "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services",
    ]);
    assert.deepEqual(created({ type: "LoadBalancer", clusterIP: "None", ports: [{ port: 80 }] }).errors, [
      "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services",
    ]);
  });

  test("ExternalName: a DNS name (trailing dot allowed), no clusterIP", () => {
    assert.deepEqual(created({ type: "ExternalName", externalName: "db.example.com." }).errors, []);
    assert.deepEqual(created({ type: "ExternalName" }).errors, ["spec.externalName: Required value"]);
    assert.deepEqual(created({ type: "ExternalName", externalName: "x.com", clusterIP: "10.96.0.4" }).errors, [
      "spec.clusterIPs: Forbidden: may not be set for ExternalName services",
    ]);
    assert.deepEqual(created({ type: "ExternalName", externalName: "x.com", ipFamilyPolicy: "SingleStack" }).errors, [
      "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services",
    ]);
  });

  test("clusterIPs consistency, bad IPs, externalIPs", () => {
    assert.deepEqual(created({ clusterIP: "10.96.0.4", clusterIPs: ["10.96.0.5"], ports: [{ port: 80 }] }).errors, [
      'spec.clusterIPs: Invalid value: []string{"10.96.0.5"}: first value must match `clusterIP`',
    ]);
    assert.deepEqual(created({ clusterIPs: ["10.96.0.5"], ports: [{ port: 80 }] }).errors, [
      'spec.clusterIPs: Invalid value: []string{"10.96.0.5"}: must be empty when `clusterIP` is not specified',
    ]);
    assert.deepEqual(created({ clusterIP: "10.96.0.300", ports: [{ port: 80 }] }).errors, [
      'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    assert.deepEqual(created({ externalIPs: ["127.0.0.1"], ports: [{ port: 80 }] }).errors, [
      'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
  });

  test("ports: duplicates by protocol and number; TCP and UDP may share a node port", () => {
    const dup = created({
      type: "NodePort",
      ports: [
        { name: "a", port: 53, nodePort: 30053 },
        { name: "b", port: 53, protocol: "UDP", nodePort: 30053 },
        { name: "c", port: 53, nodePort: 30054 },
      ],
    });
    assert.deepEqual(dup.errors, ['spec.ports[2]: Duplicate value: {"port":53,"protocol":"TCP"}']);
  });

  test("traffic policies", () => {
    assert.deepEqual(created({ externalTrafficPolicy: "Local", ports: [{ port: 80 }] }).errors, [
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]);
    assert.deepEqual(created({ type: "NodePort", externalTrafficPolicy: "Nope", ports: [{ port: 80 }] }).errors, [
      'spec.externalTrafficPolicy: Unsupported value: "Nope": supported values: "Cluster", "Local"',
    ]);
    assert.deepEqual(created({ type: "NodePort", healthCheckNodePort: 31000, ports: [{ port: 80 }] }).errors, [
      "spec.healthCheckNodePort: Invalid value: 31000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ]);
  });
});

describe("Service updates (patchAllocatedValues, dropTypeDependentFields, ValidateServiceUpdate)", () => {
  test("an update leaving clusterIP and nodePorts out keeps them", () => {
    const old = stored({ type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30080 }] });
    const next = structuredClone(old);
    delete next.spec!.clusterIP;
    delete next.spec!.clusterIPs;
    delete next.spec!.ports![0]!.nodePort;
    const { obj, errors } = updated(next, old);
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.clusterIP, "10.96.0.10");
    assert.equal(obj.spec?.ports?.[0]?.nodePort, 30080);
  });

  test("clusterIP may not change once set; patching clusterIP alone moves clusterIPs with it", () => {
    const old = stored({ ports: [{ port: 80 }] });
    const next = structuredClone(old);
    next.spec!.clusterIP = "10.96.0.11";
    assert.deepEqual(updated(next, old).errors, [
      'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set',
    ]);
  });

  test("NodePort to ClusterIP drops the node ports and externalTrafficPolicy the user left", () => {
    const old = stored({ type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] });
    const next = structuredClone(old);
    next.spec!.type = "ClusterIP";
    const { obj, errors } = updated(next, old);
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.ports?.[0]?.nodePort, undefined);
    assert.equal(obj.spec?.externalTrafficPolicy, undefined);
  });

  test("to ExternalName drops clusterIP and the family fields; back needs none given", () => {
    const old = stored({ ports: [{ port: 80 }] });
    const next = structuredClone(old);
    next.spec!.type = "ExternalName";
    next.spec!.externalName = "example.com";
    const { obj, errors } = updated(next, old);
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.clusterIP, undefined);
    assert.equal(obj.spec?.clusterIPs, undefined);
    assert.equal(obj.spec?.ipFamilies, undefined);
    assert.equal(obj.spec?.ipFamilyPolicy, undefined);
    const back = structuredClone(obj);
    back.spec!.type = "ClusterIP";
    delete back.spec!.externalName;
    assert.deepEqual(updated(back, obj).errors, []);
  });

  test("LoadBalancer to ClusterIP clears the load balancer status", () => {
    const old = stored({ type: "LoadBalancer", ports: [{ port: 80, nodePort: 30080 }] });
    old.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } };
    const next = structuredClone(old);
    next.spec!.type = "ClusterIP";
    const { obj, errors } = updated(next, old);
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.allocateLoadBalancerNodePorts, undefined);
    assert.deepEqual(obj.status?.loadBalancer, {});
  });
});

test("parsePortRange: low-high, base+offset, single; nonsense refused", () => {
  assert.deepEqual(parsePortRange("30000-32767"), { base: 30000, size: 2768 });
  assert.deepEqual(parsePortRange("30000+2767"), { base: 30000, size: 2768 });
  assert.deepEqual(parsePortRange("8080"), { base: 8080, size: 1 });
  for (const bad of ["", "a-b", "200-100", "0-10", "60000-70000"])
    assert.throws(() => parsePortRange(bad), /unable to parse port range/, bad);
});
