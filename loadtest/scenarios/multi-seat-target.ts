import { RandomPool } from '../random-pool.js';
import type { Outcome, Target } from '../targets.js';

/** The group purchase a client sends: all the seats or none, and on a refusal which seats and why. */
export const GROUP_PURCHASE_MUTATION = `mutation BuyGroup($ticketIds: [ID!]!) { purchaseTickets(input: { ticketIds: $ticketIds }) { __typename ... on PurchaseTicketsSuccess { order { id totalCents } } ... on TicketsUnavailable { tickets { ticketId reason } } ... on Error { message } } }`;

const GROUP_QUERY = JSON.stringify(GROUP_PURCHASE_MUTATION);

/** The request body that buys these tickets together. */
export function groupPurchaseBody(ticketGlobalIds: readonly string[]): string {
  return `{"query":${GROUP_QUERY},"variables":{"ticketIds":${JSON.stringify(ticketGlobalIds)}}}`;
}

/** A multi-seat target: its indexes are blocks of adjacent seats, and it remembers who won which. */
export interface MultiSeatTarget extends Target {
  readonly group: number;
  /** Each block's first seat (an index in seat-map order), by block index. */
  readonly blockStarts: Int32Array;
  /** The orders the generator saw won: order id as answered → the block's first seat. */
  readonly wonBlocks: ReadonlyMap<string, number>;
  /** Blocks with no seat seen sold: what a buyer can still pick. */
  openBlocks(): number;
}

/** Every run of `group` adjacent seats within one row, as the index of its first seat. */
export function blocksOf(rowLengths: readonly number[], group: number): Int32Array {
  const starts: number[] = [];
  let rowStart = 0;
  for (const length of rowLengths) {
    for (let start = rowStart; start + group <= rowStart + length; start++) starts.push(start);
    rowStart += length;
  }
  return Int32Array.from(starts);
}

/**
 * Buyers pick a random block of `group` adjacent seats in one row among the blocks in which the
 * generator has seen no seat sold (a win, or a refusal naming the seat SOLD). Blocks overlap, so
 * groups contend for shared seats; a block with a seat being checked out stays in the pool, so late
 * buyers meet LOCKED as real ones do. Runs out when no row has `group` adjacent seats left.
 */
export function multiSeatTarget(
  ticketGlobalIds: readonly string[],
  rowLengths: readonly number[],
  group: number,
  random: () => number = Math.random,
): MultiSeatTarget {
  const blockStarts = blocksOf(rowLengths, group);
  const blockAt = new Int32Array(ticketGlobalIds.length).fill(-1);
  blockStarts.forEach((start, block) => {
    blockAt[start] = block;
  });
  const seatOf = new Map(ticketGlobalIds.map((id, i) => [id, i]));
  const seenSold = new Uint8Array(ticketGlobalIds.length);
  const open = new RandomPool(blockStarts.length);
  const wonBlocks = new Map<string, number>();

  const sold = (seat: number) => {
    if (seenSold[seat]) return;
    seenSold[seat] = 1;
    // A block holding this seat starts at most group - 1 seats before it; none crosses a row's end.
    for (let start = Math.max(0, seat - group + 1); start <= seat; start++) {
      const block = blockAt[start] ?? -1;
      if (block >= 0) open.remove(block);
    }
  };

  return {
    group,
    blockStarts,
    wonBlocks,
    bodies: Array.from(blockStarts, (start) => groupPurchaseBody(ticketGlobalIds.slice(start, start + group))),
    openBlocks: () => open.size,
    next: () => open.draw(random),
    observe(block: number, outcome: Outcome) {
      const start = blockStarts[block] ?? -1;
      if (outcome.kind === 'win' && start >= 0) {
        for (let seat = start; seat < start + group; seat++) sold(seat);
        if (outcome.orderId) wonBlocks.set(outcome.orderId, start);
      } else if (outcome.kind === 'reject') {
        for (const seat of outcome.unavailable ?? []) {
          const index = seat.reason === 'SOLD' ? seatOf.get(seat.ticketId) : undefined;
          if (index !== undefined) sold(index);
        }
      }
    },
  };
}
