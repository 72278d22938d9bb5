import { randomUUID } from 'node:crypto';
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { WebSocket } from 'ws';

/**
 * Serialises each subscription result's `data` once, however many sockets it goes to. graphql-ws
 * turns every message into JSON per socket, so a live batch shared by 1,000 subscribers was
 * stringified 1,000 times: in a profile of 1,000 subscribers during a 1,000/s seat rush,
 * graphql-ws' stringifyMessage was 18 % of the API's CPU (~75 µs per 27 KB message).
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
  // The text of the stand-in JSON.stringify met last, for the send that follows it.
  let pending: string | undefined;

  class DataText {
    constructor(readonly text: string) {}
    toJSON(): string {
      pending = this.text;
      return marker;
    }
  }

  /** The message text with the marker replaced by the data's text (unchanged when it has none). */
  const expand = (message: string): string => {
    const text = pending;
    pending = undefined;
    if (text === undefined) return message;
    const at = message.lastIndexOf(quotedMarker);
    return at < 0 ? message : message.slice(0, at) + text + message.slice(at + quotedMarker.length);
  };

  class Socket extends WebSocket {
    // biome-ignore lint/suspicious/noExplicitAny: ws' send has several overloads; this passes them through.
    override send(data: any, ...rest: any[]): void {
      (super.send as (...args: unknown[]) => void)(typeof data === 'string' ? expand(data) : data, ...rest);
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
