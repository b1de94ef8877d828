// PodDisruptionBudgets end to end against a real API server and etcd: the policy/v1 kind as the
// real kubectl sees it (discovery, create, get columns, validation).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PODDISRUPTIONBUDGETS } from "#pkg/api/resources.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";

const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
let srv: TestApiServer;
let home: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl with the server's kubeconfig, a private HOME and discovery cache. */
function kubectl(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, [`--cache-dir=${join(home, "cache")}`, ...args], {
      env: { ...process.env, KUBECONFIG: srv.kubeconfigPath, HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Human table output as rows of cells. */
function rows(out: string): string[][] {
  return out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
}

before(async () => {
  assert.ok(existsSync(KUBECTL), `kubectl not found at ${KUBECTL}`);
  home = await mkdtemp(join(tmpdir(), "kubeling-pdb-"));
  srv = await startApiServer();
});

after(async () => {
  await srv?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("policy/v1 PodDisruptionBudget", () => {
  test("kubectl api-resources lists it with its short name", async () => {
    const line = rows(await ok(["api-resources", "--api-group=policy"])).find((r) => r[0] === "poddisruptionbudgets");
    assert.deepEqual(line, ["poddisruptionbudgets", "pdb", "policy/v1", "true", "PodDisruptionBudget"]);
  });

  test("kubectl create pdb, then get pdb with upstream's columns", async () => {
    assert.match(
      await ok(["create", "pdb", "web", "--selector=app=web", "--min-available=1"]),
      /^poddisruptionbudget\.policy\/web created$/m,
    );
    await ok(["create", "pdb", "half", "--selector=app=half", "--max-unavailable=50%"]);
    const table = rows(await ok(["get", "pdb"]));
    assert.deepEqual(table[0], ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]);
    assert.deepEqual(table.find((r) => r[0] === "web")?.slice(0, 4), ["web", "1", "N/A", "0"]);
    assert.deepEqual(table.find((r) => r[0] === "half")?.slice(0, 4), ["half", "N/A", "50%", "0"]);
    const stored = await srv.client.get(PODDISRUPTIONBUDGETS, "default", "web");
    assert.equal(stored.metadata.generation, 1);
    assert.deepEqual(stored.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  });

  test("minAvailable and maxUnavailable together are refused with upstream's message", async () => {
    const err = await srv.client
      .create(PODDISRUPTIONBUDGETS, "default", {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "both" },
        spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: "x" } } },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof Error);
    assert.match(
      err.message,
      /^PodDisruptionBudget\.policy "both" is invalid: spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/,
    );
  });
});
