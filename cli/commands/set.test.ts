import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { CONFIGMAPS, CRONJOBS, DEPLOYMENTS, PODS } from "#pkg/api/resources.js";
import {
  namedListPatch,
  parseEnv,
  parseImagePairs,
  resourcesAndPairs,
  selectString,
  setEnv,
  setImage,
  splitEnvironmentFromResources,
  updateEnv,
} from "./set.js";

const web = (): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: {
      template: {
        spec: {
          initContainers: [{ name: "init", image: "busybox" }],
          containers: [
            {
              name: "app",
              image: "nginx:1",
              env: [
                { name: "A", value: "1" },
                { name: "B", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
              ],
            },
            { name: "side", image: "envoy" },
          ],
        },
      },
    },
  }) as KubeObject;

describe("set image", () => {
  test("arguments: resources first, then NAME=IMAGE pairs", () => {
    assert.deepEqual(resourcesAndPairs(["deployment/web", "app=nginx:2"], "image"), {
      resources: ["deployment/web"],
      pairs: ["app=nginx:2"],
    });
    assert.throws(
      () => resourcesAndPairs(["app=x", "deploy/web"], "image"),
      /all resources must be specified before image changes: deploy\/web/,
    );
    assert.deepEqual(
      [...parseImagePairs(["app=nginx:2", "side=envoy:2"])],
      [
        ["app", "nginx:2"],
        ["side", "envoy:2"],
      ],
    );
  });

  test("a strategic merge patch of the changed containers only", () => {
    const c = setImage(
      DEPLOYMENTS,
      web(),
      new Map([
        ["app", "nginx:2"],
        ["side", "envoy"],
      ]),
    );
    assert.deepEqual(c.errors, []);
    assert.deepEqual(c.patch, { spec: { template: { spec: { containers: [{ name: "app", image: "nginx:2" }] } } } });
    const all = setImage(DEPLOYMENTS, web(), new Map([["*", "x:1"]]));
    assert.deepEqual(all.patch, {
      spec: {
        template: {
          spec: {
            initContainers: [{ name: "init", image: "x:1" }],
            containers: [
              { name: "app", image: "x:1" },
              { name: "side", image: "x:1" },
            ],
          },
        },
      },
    });
    const missing = setImage(DEPLOYMENTS, web(), new Map([["nope", "x"]]));
    assert.deepEqual(missing.errors, ['error: unable to find container named "nope"']);
    assert.equal(missing.patch, undefined, "nothing changed: nothing sent, nothing printed");
  });

  test("pods, cron jobs, and kinds without a pod template", () => {
    const pod = { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "a" }] } } as KubeObject;
    assert.deepEqual(setImage(PODS, pod, new Map([["c", "b"]])).patch, {
      spec: { containers: [{ name: "c", image: "b" }] },
    });
    const cj = {
      metadata: { name: "cj" },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "a" }] } } } } },
    } as KubeObject;
    assert.deepEqual(setImage(CRONJOBS, cj, new Map([["c", "b"]])).patch, {
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "b" }] } } } } },
    });
    assert.throws(
      () => setImage(CONFIGMAPS, { metadata: { name: "cm" } } as KubeObject, new Map([["c", "b"]])),
      /configmaps\/cm the object is not a pod or does not have a pod template: \*v1\.ConfigMap/,
    );
  });
});

describe("set env", () => {
  test("arguments and parsing as kubectl's envutil", () => {
    assert.deepEqual(splitEnvironmentFromResources(["deploy/web", "A=1", "B-"]), {
      resources: ["deploy/web"],
      env: ["A=1", "B-"],
    });
    assert.throws(
      () => splitEnvironmentFromResources(["A=1", "deploy/web"]),
      /all resources must be specified before environment changes: A=1 deploy\/web/,
    );
    assert.deepEqual(parseEnv(["A=1", "B=x=y", "C-"]), {
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "x=y" },
      ],
      remove: ["C"],
    });
    assert.deepEqual(parseEnv(["-"], "X=1 # comment\n\nY=2\n").env, [
      { name: "X", value: "1 " },
      { name: "Y", value: "2" },
    ]);
    assert.throws(
      () => parseEnv(["1A=x"]),
      /"1A" is not a valid key name: a valid environment variable name must consist of/,
    );
    assert.throws(() => parseEnv(["A=1", "A-"]), /can not both modify and remove the same environment variable/);
  });

  test("updateEnv keeps places, appends new, drops removed; selectString wildcards", () => {
    assert.deepEqual(
      updateEnv(
        [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
          { name: "C", value: "3" },
        ],
        [
          { name: "D", value: "4" },
          { name: "B", value: "20" },
        ],
        ["A"],
      ),
      [
        { name: "B", value: "20" },
        { name: "C", value: "3" },
        { name: "D", value: "4" },
      ],
    );
    assert.ok(selectString("app", "*"));
    assert.ok(selectString("web-app", "web*"));
    assert.ok(!selectString("app-web", "web*"));
    assert.ok(selectString("app", "app"));
  });

  test("env patch: merged by name, removals as $patch delete, order pinned", () => {
    const c = setEnv(
      DEPLOYMENTS,
      web(),
      [
        { name: "B", value: "b" },
        { name: "N", value: "new" },
      ],
      ["A"],
      {
        containers: "app",
        overwrite: true,
        list: false,
      },
    );
    assert.deepEqual(c.patch, {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "app",
                "$setElementOrder/env": [{ name: "B" }, { name: "N" }],
                env: [
                  { name: "B", value: "b", valueFrom: null },
                  { name: "N", value: "new" },
                  { name: "A", $patch: "delete" },
                ],
              },
            ],
          },
        },
      },
    });
    assert.deepEqual(namedListPatch("env", [{ name: "A" }], []), { env: null });
    assert.equal(namedListPatch("env", [{ name: "A" }], [{ name: "A" }]), undefined);
  });

  test("--list prints each selected container's environment; no match is a warning; --overwrite=false refuses", () => {
    const listed = setEnv(DEPLOYMENTS, web(), [{ name: "Z", value: "9" }], [], {
      containers: "a*",
      overwrite: true,
      list: true,
    });
    assert.equal(listed.listing, "# Deployment web, container app\nA=1\n# B from field path status.podIP\nZ=9\n");
    const none = setEnv(DEPLOYMENTS, web(), [], [], { containers: "db", overwrite: true, list: false });
    assert.equal(none.warning, 'Warning: Deployment/web does not have any containers matching "db"');
    assert.equal(none.patch, undefined);
    assert.throws(
      () =>
        setEnv(DEPLOYMENTS, web(), [{ name: "A", value: "2" }], [], { containers: "*", overwrite: false, list: false }),
      /'A' already has a value \(1\), and --overwrite is false/,
    );
  });
});
