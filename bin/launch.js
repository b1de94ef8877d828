// Shared by the bin/ entry points: run a component's compiled dist/<component>/main.js when it
// exists, else its TypeScript source through tsx in a child process (the "source" import
// condition behind #pkg/* must be set when Node starts, so it cannot be a plain import).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** @param {string} component folder name, e.g. "apiserver"; @param {boolean} [callMain] the module exports main() */
export async function launch(component, callMain = false) {
  const built = join(root, "dist", component, "main.js");
  if (existsSync(built)) {
    const mod = await import(pathToFileURL(built).href);
    if (callMain) await mod.main();
    return;
  }
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      import.meta.resolve("tsx"),
      join(root, component, "main.ts"),
      ...process.argv.slice(2),
    ],
    { stdio: "inherit", cwd: process.cwd() },
  );
  // The child shares our terminal and gets Ctrl-C itself; forward the rest and exit as it does.
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
