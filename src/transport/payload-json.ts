import { randomUUID } from 'node:crypto';
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { WebSocket } from 'ws';

/**
 * Serialises each subscription result's `data` once, however many sockets it goes to. graphql-ws
 * turns every message into JSON per socket, so a live batch shared by 1,000 subscribers was
 * stringified 1,000 times, and graphql-ws' stringifyMessage led the API's CPU profile (figures in
 * loadtest/results/LOG.md).
 *
 * `payload` (graphql-ws' `onNext`) swaps `data` for a stand-in that remembers its JSON text (per data
 * object, so a shared result is serialised once) and serialises as a marker string; the sockets
 * (`Socket`, ws' `WebSocket` option) put the text back where the marker is, in the `send` that
 * graphql-ws makes straight after stringifying, with no await in between. A result with errors
 * keeps graphql-ws' own path. Results must not change once sent; GraphQL execution never does that.
 */
export function createPayloadJson() {
  const marker = `flux-data-${randomUUID()}`;
  const quotedMarker = JSON.stringify(marker);
  const texts = new WeakMap<object, DataText>();

  class DataText {
    private encoded: Buffer | undefined;
    constructor(readonly text: string) {}
    /** The text as UTF-8, encoded once for every socket. */
    get bytes(): Buffer {
      this.encoded ??= Buffer.from(this.text);
      return this.encoded;
    }
    toJSON(): string {
      pending = this;
      return marker;
    }
  }
  // The stand-in JSON.stringify met last, for the send that follows it.
  let pending: DataText | undefined;

  /** The message around the marker, and the data that goes there; undefined when it has none. */
  const split = (message: string): { before: string; data: DataText; after: string } | undefined => {
    const data = pending;
    pending = undefined;
    if (data === undefined) return undefined;
    const at = message.lastIndexOf(quotedMarker);
    if (at < 0) return undefined;
    return { before: message.slice(0, at), data, after: message.slice(at + quotedMarker.length) };
  };

  /** The message text with the marker replaced by the data's text (unchanged when it has none). */
  const expand = (message: string): string => {
    const parts = split(message);
    return parts ? parts.before + parts.data.text + parts.after : message;
  };

  class Socket extends WebSocket {
    // biome-ignore lint/suspicious/noExplicitAny: ws' send has several overloads; this passes them through.
    override send(data: any, ...rest: any[]): void {
      const send = super.send.bind(this) as (...args: unknown[]) => void;
      const parts = typeof data === 'string' ? split(data) : undefined;
      if (!parts) {
        send(data, ...rest);
        return;
      }
      // One text frame built from bytes: the shared data is copied, never re-encoded, and no
      // per-socket 27 KB string is made for the garbage collector.
      const [options, callback] = typeof rest[0] === 'function' ? [{}, rest[0]] : [rest[0] ?? {}, rest[1]];
      const frame = Buffer.concat([Buffer.from(parts.before), parts.data.bytes, Buffer.from(parts.after)]);
      send(frame, { ...options, binary: false }, callback);
    }
  }

  return {
    /** For graphql-ws' `onNext`: the result with `data` as its stand-in, or undefined for graphql-ws' own path. */
    payload(result: ExecutionResult): FormattedExecutionResult | undefined {
      const { errors, data } = result;
      if (errors || typeof data !== 'object' || data === null) return undefined;
      let text = texts.get(data);
      if (!text) {
        text = new DataText(JSON.stringify(data));
        texts.set(data, text);
      }
      return { ...result, data: text as unknown as Record<string, unknown> }; // keys stay in their order
    },
    expand,
    Socket,
  };
}
