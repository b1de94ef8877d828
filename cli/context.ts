// What every command gets: the parsed global flags, the output streams, and a lazily built
// ApiClient from the kubeconfig (so `config ...` and `--help` work without one).

import type { Readable, Writable } from "node:stream";
import { ApiClient } from "#pkg/client/client.js";
import { type ClientConfig, loadKubeconfig } from "#pkg/client/kubeconfig.js";
import { CliError } from "./errors.js";

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  output?: string;
  watch?: boolean;
  requestTimeout?: string;
}

export interface CliIO {
  out: Writable;
  err: Writable;
  in: Readable;
}

export const CLIENT_VERSION = { major: "1", minor: "33", gitVersion: "v1.33.0-kubeling.0.1.0" } as const;

export class CliContext {
  #config: ClientConfig | undefined;
  #client: ApiClient | undefined;

  constructor(
    readonly opts: GlobalOptions,
    readonly io: CliIO,
  ) {}

  get config(): ClientConfig {
    if (!this.#config) {
      try {
        this.#config = loadKubeconfig({
          ...(this.opts.kubeconfig ? { path: this.opts.kubeconfig } : {}),
          ...(this.opts.context ? { context: this.opts.context } : {}),
        });
      } catch (err) {
        throw new CliError(`error: ${(err as Error).message}`);
      }
    }
    return this.#config;
  }

  get client(): ApiClient {
    if (!this.#client) this.#client = new ApiClient(this.config, { userAgent: "kubeling/0.1.0 (cli)" });
    return this.#client;
  }

  /** Server URL for messages, without failing when there is no kubeconfig. */
  get serverForMessages(): string | undefined {
    return this.#config?.server;
  }

  /** -n, else the context's namespace, else "default". */
  get namespace(): string {
    if (this.opts.namespace) return this.opts.namespace;
    return this.config.namespace ?? "default";
  }

  /** True when -n was given explicitly (apply checks it against manifests). */
  get namespaceExplicit(): boolean {
    return this.opts.namespace !== undefined;
  }

  get outputFormat(): string | undefined {
    return this.opts.output;
  }

  print(text: string): void {
    this.io.out.write(text);
  }

  printErr(text: string): void {
    this.io.err.write(text);
  }

  async close(): Promise<void> {
    if (this.#client) await this.#client.close();
  }
}
