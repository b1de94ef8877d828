import assert from "node:assert/strict";
import { test } from "node:test";
import type { Secret } from "#pkg/api/types/index.js";
import { credentialsFor, imageRegistry } from "./credentials.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (type: string, key: string, config: unknown): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "s", namespace: "default" },
  type,
  data: { [key]: b64(JSON.stringify(config)) },
});

test("imageRegistry: Docker Hub's implied registry and library/, hosts with ports, tags and digests dropped", () => {
  assert.deepEqual(imageRegistry("busybox"), { host: "docker.io", repo: "library/busybox" });
  assert.deepEqual(imageRegistry("busybox:1.36"), { host: "docker.io", repo: "library/busybox" });
  assert.deepEqual(imageRegistry("user/app:v1"), { host: "docker.io", repo: "user/app" });
  assert.deepEqual(imageRegistry("index.docker.io/user/app"), { host: "docker.io", repo: "user/app" });
  assert.deepEqual(imageRegistry("reg.example:5000/team/app:1"), { host: "reg.example:5000", repo: "team/app" });
  assert.deepEqual(imageRegistry("localhost/app@sha256:abc"), { host: "localhost", repo: "app" });
});

test("credentialsFor: kubectl's docker-registry Secret for Docker Hub, globs, ports, paths, dockercfg", () => {
  // What `kubectl create secret docker-registry r --docker-username=u --docker-password=p` stores.
  const hub = secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", {
    auths: { "https://index.docker.io/v1/": { username: "u", password: "p", auth: b64("u:p") } },
  });
  assert.deepEqual(credentialsFor("busybox", [hub]), [
    { username: "u", password: "p", serveraddress: "https://index.docker.io/v1/" },
  ]);
  assert.deepEqual(credentialsFor("quay.io/app", [hub]), []);

  const glob = secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", {
    auths: { "*.example.com": { auth: b64("g:pw:with:colons") } },
  });
  assert.deepEqual(credentialsFor("eu.example.com/app", [glob]), [
    { username: "g", password: "pw:with:colons", serveraddress: "*.example.com" },
  ]);
  assert.deepEqual(credentialsFor("a.eu.example.com/app", [glob]), [], "a glob matches one label");
  assert.deepEqual(credentialsFor("eu.example.com:5000/app", [glob]), [], "the port must match");

  const cfg = secret("kubernetes.io/dockercfg", ".dockercfg", {
    "reg.example:5000/team": { username: "t", password: "tp" },
  });
  assert.equal(credentialsFor("reg.example:5000/team/app", [cfg]).length, 1);
  assert.equal(credentialsFor("reg.example:5000/teammate/app", [cfg]).length, 0, "paths match whole segments");
  // Opaque Secrets and broken configs hold no credentials.
  assert.deepEqual(credentialsFor("busybox", [secret("Opaque", ".dockerconfigjson", { auths: {} })]), []);
  const broken: Secret = { ...hub, data: { ".dockerconfigjson": b64("{not json") } };
  assert.deepEqual(credentialsFor("busybox", [broken]), []);
});
