#!/usr/bin/env node
// kubeling CLI entry. After `npm run build` it runs the compiled dist/cli/main.js; in a
// source checkout without dist/ it runs cli/main.ts through tsx (a child process, because
// the "source" import condition must be set when Node starts).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(fileURLToPath(dist))) {
  const { main } = await import(dist.href);
  await main();
} else {
  const source = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", import.meta.resolve("tsx"), source, ...process.argv.slice(2)],
    { stdio: "inherit", cwd: process.cwd() },
  );
  // The child shares our terminal and gets Ctrl-C itself; just don't die before it.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
