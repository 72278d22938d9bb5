import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createPayloadJson } from '../src/transport/payload-json.js';

// What graphql-ws does with a next message: stringify it, then send the text.
const message = (id: string, payload: unknown) => JSON.stringify({ id, type: 'next', payload });

describe('subscription data serialised once per result', () => {
  it('sends every socket the same JSON graphql-ws would have, and stringifies shared data once', () => {
    const json = createPayloadJson();
    const data = { ticketAvailability: { sold: 2, changed: [{ id: 'T1', status: 'SOLD', note: '"quoted" \u2028' }] } };
    let reads = 0;
    const watched = new Proxy(data, {
      get: (target, key, receiver) => {
        if (key === 'ticketAvailability') reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const result = { data: watched, extensions: { batch: 7 } };
    for (const id of ['a', 'b', 'c']) {
      const sent = json.expand(message(id, json.payload(result)));
      expect(JSON.parse(sent)).toEqual({ id, type: 'next', payload: { data, extensions: { batch: 7 } } });
      expect(sent).toBe(message(id, { data, extensions: { batch: 7 } }));
    }
    expect(reads).toBe(1);
  });

  it('leaves results with errors, and messages without a stand-in, to graphql-ws', () => {
    const json = createPayloadJson();
    expect(json.payload({ data: null, errors: [new GraphQLError('boom')] })).toBeUndefined();
    expect(json.payload({ data: { a: 1 }, errors: [new GraphQLError('boom')] })).toBeUndefined();
    expect(json.expand('{"id":"x","type":"complete"}')).toBe('{"id":"x","type":"complete"}');
  });

  it('does not carry one message’s data into the next when a send is skipped (socket closed)', () => {
    const json = createPayloadJson();
    message('closed', json.payload({ data: { secret: 'for the closed socket' } })); // stringified, never sent
    const other = '{"id":"y","type":"next","payload":{"data":{"plain":true}}}';
    expect(json.expand(other)).toBe(other);
  });
});
