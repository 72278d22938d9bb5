import { describe, expect, it } from 'vitest';
import type { TicketRow } from '../src/db/schema.js';
import { availabilityBatch, SlowSubscriberError, SubscriberStream } from '../src/events/subscriber-stream.js';
import { ticketRow } from './helpers/ticket-row.js';

const counts = (sold: number) => ({ available: 10 - sold, held: 0, sold, total: 10 });
const ticket = (id: string, version: number, status: TicketRow['status'] = 'SOLD') => ticketRow(id, version, status);

describe('subscribers in step with the feed', () => {
  it('all get the very same message object for a batch, whether they were waiting or read it later', async () => {
    const streams = Array.from({ length: 5 }, () => new SubscriberStream('e', 100, () => {}));
    for (const stream of streams) stream.start(counts(0));
    for (const stream of streams) await stream.next();
    const waiting = streams.slice(0, 3).map((stream) => stream.next());
    const batch = availabilityBatch('e', counts(2), [ticket('a', 1), ticket('b', 1)]);
    for (const stream of streams) stream.push(batch);
    const delivered = [...(await Promise.all(waiting)), ...(await Promise.all(streams.slice(3).map((s) => s.next())))];
    for (const result of delivered) expect(result.value).toBe(batch);
    expect(Object.isFrozen(batch) && Object.isFrozen(batch.changedTickets)).toBe(true);
  });

  it('a subscriber that missed a batch gets its own merged message, and the others still share theirs', async () => {
    const [inStep, behind] = [new SubscriberStream('e', 100, () => {}), new SubscriberStream('e', 100, () => {})];
    for (const stream of [inStep, behind]) {
      stream.start(counts(0));
      await stream.next();
    }
    const first = availabilityBatch('e', counts(1), [ticket('a', 1)]);
    const second = availabilityBatch('e', counts(2), [ticket('a', 2), ticket('b', 1)]);
    inStep.push(first);
    behind.push(first);
    expect((await inStep.next()).value).toBe(first);
    inStep.push(second);
    behind.push(second);
    expect((await inStep.next()).value).toBe(second);
    const merged = (await behind.next()).value;
    expect(merged).not.toBe(first);
    expect(merged).not.toBe(second);
    expect(merged?.counts).toEqual(counts(2));
    expect(merged?.changedTickets.map((t: TicketRow) => [t.id, t.version])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(first.changedTickets.map((t: TicketRow) => t.version)).toEqual([1]); // the shared batch is untouched
  });
});

describe('a subscriber that reads slowly', () => {
  it('gets one merged message (latest counts, newest version of each ticket) instead of a queue', async () => {
    const stream = new SubscriberStream('e', 100, () => {});
    stream.start(counts(0));
    expect((await stream.next()).value).toMatchObject({ counts: counts(0), changedTickets: [] });
    for (let batch = 1; batch <= 500; batch++) {
      stream.push(availabilityBatch('e', counts(batch % 10), [ticket('a', batch), ticket('b', 1000 - batch)]));
    }
    const merged = (await stream.next()).value;
    expect(merged?.counts).toEqual(counts(0));
    expect(merged?.changedTickets.map((t: TicketRow) => [t.id, t.version])).toEqual([
      ['a', 500],
      ['b', 999],
    ]);
  });

  it('is disconnected with SlowSubscriberError once its backlog passes the limit, and frees itself', async () => {
    let closed = 0;
    const stream = new SubscriberStream('e', 5, () => closed++);
    stream.start(counts(0));
    stream.push(
      availabilityBatch(
        'e',
        counts(6),
        Array.from({ length: 6 }, (_, i) => ticket(`t${i}`, i)),
      ),
    );
    expect((await stream.next()).value?.counts).toEqual(counts(0)); // the first message was already due
    await expect(stream.next()).rejects.toBeInstanceOf(SlowSubscriberError);
    expect(closed).toBe(1);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('sends nothing before the first message, and stops at once when the client leaves mid-wait', async () => {
    let closed = 0;
    const stream = new SubscriberStream('e', 100, () => closed++);
    stream.push(availabilityBatch('e', counts(1), [ticket('early', 7)]));
    stream.start(counts(0));
    expect((await stream.next()).value?.changedTickets).toEqual([]);
    expect((await stream.next()).value?.changedTickets.map((t: TicketRow) => t.id)).toEqual(['early']);
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(closed).toBe(1);
  });
});
