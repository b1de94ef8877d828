// kubectl-style error messages: one line, exit code 1.

import { StatusError } from "#pkg/api/errors.js";

/** An error whose message is printed verbatim (already in kubectl's words). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** An error already reported on stderr; only the exit code is left to set. */
export class SilentExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "SilentExit";
  }
}

const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: "connect: connection refused",
  ECONNRESET: "connection reset by peer",
  ENOTFOUND: "no such host",
  EHOSTUNREACH: "connect: no route to host",
  ETIMEDOUT: "i/o timeout",
  UND_ERR_CONNECT_TIMEOUT: "i/o timeout",
};

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code in CONNECT_CODES) return code;
    if (e instanceof AggregateError && e.errors.length > 0) e = e.errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return Object.keys(CONNECT_CODES).find((c) => msg.includes(c));
}

/** Is this a failure to reach the server at all (as opposed to an answer)? */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof StatusError || err instanceof CliError) return false;
  if (errorCode(err) !== undefined) return true;
  const msg = err instanceof Error ? err.message : String(err);
  return /cannot reach the API server|certificate|self[- ]signed|socket hang up|other side closed/i.test(msg);
}

/** "Unable to connect to the server: dial tcp 127.0.0.1:6443: connect: connection refused". */
export function connectionMessage(err: unknown, server: string | undefined): string {
  const code = errorCode(err);
  let hostPort = server ?? "";
  try {
    if (server) {
      const u = new URL(server);
      hostPort = `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
    }
  } catch {
    // keep the server string as given
  }
  if (code) return `Unable to connect to the server: dial tcp ${hostPort}: ${CONNECT_CODES[code]}`;
  const msg = err instanceof Error ? err.message : String(err);
  return `Unable to connect to the server: ${msg}`;
}

/**
 * kubectl's StandardErrorMessage. `source` adds the file-based wording:
 * `Error from server (AlreadyExists): error when creating "x.yaml": ...`.
 */
export function formatError(err: unknown, o: { server?: string; verb?: string; source?: string } = {}): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof StatusError) {
    if (err.code === 401 || err.reason === "Unauthorized")
      return "error: You must be logged in to the server (Unauthorized)";
    if (err.reason === "Invalid") return invalidMessage(err);
    const msg = o.verb && o.source ? `error when ${o.verb} "${o.source}": ${err.message}` : err.message;
    return err.reason && err.reason !== "Unknown"
      ? `Error from server (${err.reason}): ${msg}`
      : `Error from server: ${msg}`;
  }
  if (isConnectionError(err)) return connectionMessage(err, o.server);
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith("error: ") ? msg : `error: ${msg}`;
}

/**
 * kubectl's report of an Invalid Status (cmdutil.checkErr): `The Deployment "web" is invalid:`
 * then the causes, on the same line when there is one, one per "* " line when there are more.
 */
function invalidMessage(err: StatusError): string {
  const d = err.details;
  if (!d) return "The request is invalid";
  const title =
    d.kind || d.name ? `The ${d.kind ?? ""} ${JSON.stringify(d.name ?? "")} is invalid` : "The request is invalid";
  const causes = (d.causes ?? []).map((c) => (c.field ? `${c.field}: ${c.message ?? ""}` : (c.message ?? "")));
  if (causes.length === 0) return title;
  if (causes.length === 1) return `${title}: ${causes[0]}`;
  return `${title}: \n${causes.map((c) => `* ${c}`).join("\n")}`;
}
