#!/usr/bin/env node
// Runs the test suites with node:test on the TypeScript sources (tsx loader, "source" condition).
//   node scripts/test.mjs            all suites: unit, integration, e2e
//   node scripts/test.mjs unit       only *.test.ts beside the code
//   node scripts/test.mjs integration|e2e
//   node scripts/test.mjs path/to/a.test.ts ...   just those files
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const SKIP = new Set(["node_modules", "dist", ".git", ".kubeling", "test", "bench"]);

function find(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    if (SKIP.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) find(path, out);
    else if (entry.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

function findUnder(dir) {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".test.ts"))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

const args = process.argv.slice(2);
const suites = {
  unit: () => find("."),
  integration: () => findUnder("test/integration"),
  e2e: () => findUnder("test/e2e"),
};
let files;
if (args.length === 0) files = [...suites.unit(), ...suites.integration(), ...suites.e2e()];
else if (args.length === 1 && args[0] in suites) files = suites[args[0]]();
else files = args;

if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const result = spawnSync(
  process.execPath,
  ["--conditions=source", "--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
