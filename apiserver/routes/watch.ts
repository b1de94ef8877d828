// Watch streams: newline-delimited JSON events over a chunked HTTP response, or one text
// message per event over a WebSocket (upgrade on the same URL with ?watch=true).
//
// The 200 headers are flushed before the first event (KUBECTL_WIRE 1.6: kubectl's informers
// block until they see them, so `kubectl wait` hangs otherwise). Errors from the store (410
// Expired on a compacted resourceVersion) become one ERROR event carrying the Status, then the
// stream ends, as upstream does. A client disconnect, ?timeoutSeconds or server shutdown
// aborts the store watch through its AbortSignal.

import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { WebSocket, WebSocketServer } from "ws";
import { parseFieldSelector } from "#pkg/api/fields.js";
import { parseLabelSelector } from "#pkg/api/labels.js";
import type { KubeObject, ListOptions, WatchEvent } from "#pkg/api/meta.js";
import type { Logger } from "#pkg/runtime/log.js";
import { negotiate, tableContentType } from "../http/negotiate.js";
import { JSON_TYPE, toStatusError } from "../http/status.js";
import type { StoreView } from "../http/types.js";
import type { ApiMetrics } from "../metrics.js";
import { watchEventTable } from "../tables.js";

/** An Encoder serialises one event as one JSON text (no trailing newline). */
type Encoder = (ev: WatchEvent) => string;

/**
 * The watch cache hands the same (immutable) object to every watcher of a resource, so the
 * plain JSON of an event is computed once per object and event type, not once per watcher:
 * with hundreds of kubelets watching pods this is most of a watch's CPU.
 */
const encoded = new WeakMap<object, { type: string; text: string }>();

function encodePlain(ev: WatchEvent): string {
  const key = ev.object as object;
  const hit = encoded.get(key);
  if (hit && hit.type === ev.type) return hit.text;
  const text = JSON.stringify(ev);
  encoded.set(key, { type: ev.type, text });
  return text;
}

/** encoderFor returns how events are serialised: plain, or each object as a one-row Table. */
function encoderFor(accept: string | undefined, store: StoreView): { encode: Encoder; contentType: string } {
  const n = negotiate(accept);
  if (n.type !== "table") return { encode: encodePlain, contentType: JSON_TYPE };
  return {
    contentType: tableContentType(n.version),
    encode: (ev) => {
      if (ev.type === "ERROR" || ev.type === "BOOKMARK") return JSON.stringify(ev);
      const table = watchEventTable(store.strategy, ev.object as KubeObject, new Date(), { version: n.version });
      return JSON.stringify({ type: ev.type, object: table });
    },
  };
}

function errorEvent(err: unknown): string {
  const { error } = toStatusError(err);
  return JSON.stringify({ type: "ERROR", object: error.toStatus() });
}

/**
 * checkSelectors rejects malformed selectors with a 400 before the stream starts: after the 200
 * is flushed, an error could only be an ERROR event, which clients treat as a dropped watch.
 */
function checkSelectors(opts: ListOptions): void {
  if (opts.labelSelector) parseLabelSelector(opts.labelSelector);
  if (opts.fieldSelector) parseFieldSelector(opts.fieldSelector);
}

export class WatchServer {
  private readonly shutdown = new AbortController();
  private open = 0;

  constructor(
    private readonly log: Logger,
    private readonly metrics: ApiMetrics,
  ) {}

  get openWatches(): number {
    return this.open;
  }

  /** closeAll ends every open watch (server shutdown). */
  closeAll(): void {
    this.shutdown.abort();
  }

  private signalFor(timeoutSeconds: number | undefined): { ac: AbortController; dispose: () => void } {
    const ac = new AbortController();
    const onShutdown = () => ac.abort();
    this.shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    const timer =
      timeoutSeconds !== undefined && timeoutSeconds > 0
        ? setTimeout(() => ac.abort(), timeoutSeconds * 1000)
        : undefined;
    timer?.unref();
    return {
      ac,
      dispose: () => {
        if (timer) clearTimeout(timer);
        this.shutdown.signal.removeEventListener("abort", onShutdown);
      },
    };
  }

  /**
   * pump reads the store watch and hands each encoded event to `write` (which resolves once the
   * transport can take more); an error ends the stream with one ERROR event.
   */
  private async pump(
    store: StoreView,
    ns: string | undefined,
    opts: ListOptions,
    signal: AbortSignal,
    encode: Encoder,
    write: (chunk: string) => Promise<void> | void,
  ): Promise<void> {
    const it = store.watch(ns, opts, signal)[Symbol.asyncIterator]();
    // Don't rely on the store noticing the abort while we wait for its next event.
    const aborted = new Promise<undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      else signal.addEventListener("abort", () => resolve(undefined), { once: true });
    });
    try {
      for (;;) {
        const r = await Promise.race([it.next(), aborted]);
        if (r === undefined || r.done || signal.aborted) break;
        const w = write(encode(r.value));
        if (w) await w;
      }
    } catch (err) {
      if (signal.aborted) return;
      const { error, bug } = toStatusError(err);
      if (bug) this.log.error({ err, resource: store.resource.resource, namespace: ns }, "watch failed");
      else
        this.log.debug(
          { code: error.code, resource: store.resource.resource, namespace: ns },
          "watch ended with error",
        );
      const w = write(errorEvent(err));
      if (w) await w;
    } finally {
      // Not awaited: a generator parked in next() only finishes once the store sees the abort.
      it.return?.().catch(() => undefined);
    }
  }

  /** serveHttp answers a watch request as a chunked HTTP stream. */
  async serveHttp(
    req: FastifyRequest,
    reply: FastifyReply,
    store: StoreView,
    ns: string | undefined,
    opts: ListOptions,
  ): Promise<FastifyReply> {
    checkSelectors(opts);
    const { encode, contentType } = encoderFor(req.headers.accept, store);
    const { ac, dispose } = this.signalFor(opts.timeoutSeconds);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-cache, private" });
    res.flushHeaders();
    const onClose = () => ac.abort();
    res.on("close", onClose);
    this.open++;
    this.metrics.watchStarted();
    try {
      await this.pump(store, ns, opts, ac.signal, encode, (text) => {
        if (res.write(`${text}\n`)) return;
        // Back-pressure: wait for the socket to drain, or for the stream to be given up.
        return once(res, "drain", { signal: ac.signal }).then(
          () => undefined,
          () => undefined,
        );
      });
    } finally {
      this.open--;
      this.metrics.watchEnded();
      dispose();
      res.off("close", onClose);
      ac.abort();
      if (!res.writableEnded) res.end();
    }
    return reply;
  }

  /** serveWebSocket upgrades the connection and sends one text message per event. */
  serveWebSocket(
    wss: WebSocketServer,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    store: StoreView,
    ns: string | undefined,
    opts: ListOptions,
  ): void {
    checkSelectors(opts); // throws before the upgrade: the caller answers the Status
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const { encode } = encoderFor(req.headers.accept, store);
      const { ac, dispose } = this.signalFor(opts.timeoutSeconds);
      ws.on("close", () => ac.abort());
      ws.on("error", () => ac.abort());
      this.open++;
      this.metrics.watchStarted();
      const HIGH_WATER = 1 << 20;
      void this.pump(store, ns, opts, ac.signal, encode, (msg) => {
        if (ws.readyState !== ws.OPEN) {
          ac.abort();
          return;
        }
        if (ws.bufferedAmount < HIGH_WATER) {
          ws.send(msg);
          return;
        }
        return new Promise<void>((resolve) => ws.send(msg, () => resolve()));
      }).finally(() => {
        this.open--;
        this.metrics.watchEnded();
        dispose();
        ac.abort();
        if (ws.readyState === ws.OPEN) ws.close(1000);
      });
    });
  }
}
