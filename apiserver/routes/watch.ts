// Watch streams: newline-delimited JSON events over a chunked HTTP response, or one text
// message per event over a WebSocket (upgrade on the same URL with ?watch=true). A client that
// prefers protobuf (client-go's typed informers) gets upstream's protobuf stream instead: each
// event a metav1.WatchEvent {type, object: RawExtension{the object's k8s\0 envelope}} after its
// 4-byte big-endian length.
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
import { messageFor } from "#pkg/api/protobuf/codec.js";
import { apiVersionOf } from "#pkg/api/resources.js";
import type { Logger } from "#pkg/runtime/log.js";
import { negotiate, tableContentType } from "../http/negotiate.js";
import { encodeProtobuf, notAcceptable, PROTOBUF_WATCH, watchFrame } from "../http/protobuf.js";
import { JSON_TYPE, toStatusError } from "../http/status.js";
import type { StoreView } from "../http/types.js";
import type { ApiMetrics } from "../metrics.js";
import { watchEventTable } from "../tables.js";

/** An Encoder serialises one event: a JSON text (no trailing newline) or a protobuf frame. */
type Encoder = (ev: WatchEvent) => string | Buffer;

interface Encoding {
  encode: Encoder;
  /** The ERROR event that ends a stream. */
  error: (err: unknown) => string | Buffer;
  contentType: string;
}

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

const protobufFrames = new WeakMap<object, { type: string; frame: Buffer }>();

function protobufEncoding(store: StoreView): Encoding {
  const r = store.resource;
  const typeMeta = { apiVersion: apiVersionOf(r), kind: r.kind };
  const frameOf = (type: string, obj: object): Buffer => {
    const hit = protobufFrames.get(obj);
    if (hit && hit.type === type) return hit.frame;
    const o = obj as { apiVersion?: string; kind?: string };
    const body = encodeProtobuf(o.apiVersion && o.kind ? o : { ...typeMeta, ...o }, { lenient: true });
    if (!body) throw new Error(`${r.kind} cannot be encoded in protobuf`);
    const frame = watchFrame(type, body);
    protobufFrames.set(obj, { type, frame });
    return frame;
  };
  const error = (err: unknown) => {
    const status = toStatusError(err).error.toStatus();
    return watchFrame("ERROR", encodeProtobuf(status) ?? Buffer.alloc(0));
  };
  return {
    contentType: PROTOBUF_WATCH,
    encode: (ev) =>
      ev.type === "ERROR"
        ? watchFrame("ERROR", encodeProtobuf(ev.object) ?? Buffer.alloc(0))
        : frameOf(ev.type, ev.object as object),
    error,
  };
}

/**
 * encoderFor returns how events are serialised: plain JSON, each object as a one-row Table, or
 * protobuf frames (HTTP only, for kinds with a protobuf definition; else JSON if the client
 * takes it, 406 if not).
 */
function encoderFor(accept: string | undefined, store: StoreView, o: { websocket?: boolean } = {}): Encoding {
  const n = negotiate(accept);
  if (n.type === "unacceptable") throw notAcceptable();
  if (n.type === "protobuf" && !o.websocket) {
    if (messageFor(apiVersionOf(store.resource), store.resource.kind)) return protobufEncoding(store);
    if (!n.acceptsJson) throw notAcceptable();
  }
  if (n.type !== "table") return { encode: encodePlain, error: errorEvent, contentType: JSON_TYPE };
  return {
    contentType: tableContentType(n.version),
    error: errorEvent,
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
    encoding: Encoding,
    write: (chunk: string | Buffer) => Promise<void> | void,
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
        const w = write(encoding.encode(r.value));
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
      const w = write(encoding.error(err));
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
    const encoding = encoderFor(req.headers.accept, store);
    const { ac, dispose } = this.signalFor(opts.timeoutSeconds);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": encoding.contentType, "cache-control": "no-cache, private" });
    res.flushHeaders();
    const onClose = () => ac.abort();
    res.on("close", onClose);
    this.open++;
    this.metrics.watchStarted();
    try {
      await this.pump(store, ns, opts, ac.signal, encoding, (chunk) => {
        if (res.write(typeof chunk === "string" ? `${chunk}\n` : chunk)) return;
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
      const encoding = encoderFor(req.headers.accept, store, { websocket: true });
      const { ac, dispose } = this.signalFor(opts.timeoutSeconds);
      ws.on("close", () => ac.abort());
      ws.on("error", () => ac.abort());
      this.open++;
      this.metrics.watchStarted();
      const HIGH_WATER = 1 << 20;
      void this.pump(store, ns, opts, ac.signal, encoding, (msg) => {
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
