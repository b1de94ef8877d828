#!/usr/bin/env node
// kubeling-scheduler launcher: runs the compiled build (dist/) when present, else the
// TypeScript sources through tsx with the "source" export condition (the #pkg/* imports).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "scheduler", "main.js");
if (existsSync(built)) {
  await import(built);
} else {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      import.meta.resolve("tsx"),
      join(root, "scheduler", "main.ts"),
      ...process.argv.slice(2),
    ],
    { stdio: "inherit", cwd: process.cwd() },
  );
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
