import { createWriteStream, type WriteStream } from 'node:fs';

/** What a drill client does: buy one seat, buy several, hold seats, pay for a hold, or let it go. */
export type OpKind = 'purchase' | 'purchase-many' | 'hold' | 'checkout' | 'release';

/**
 * How one attempt ended. `ok`: a typed success (the order or hold it names, and its seats as the
 * server listed them); `refused`: a typed refusal (the union member, and its reason where it has one);
 * `unknown`: no typed answer (a timeout, a lost connection, a GraphQL or HTTP error), so the attempt
 * may or may not have taken effect.
 */
export type Outcome =
  | { type: 'ok'; typename: string; orderId?: string; holdId?: string; seats?: string[] }
  | { type: 'refused'; typename: string; reason?: string }
  | { type: 'unknown'; error: string };

/** One line of the history: one attempt of one operation, from invocation to completion. */
export interface Attempt {
  /** The operation's number; its retries share it (and its idempotency key). */
  op: number;
  worker: number;
  kind: OpKind;
  /** The idempotency key (every keyed kind has one; a release has none). */
  key: string | null;
  /** Ticket global ids asked for (purchases, holds); the hold's for a checkout or release. */
  seats: string[];
  /** The hold a checkout or release is about. */
  holdId?: string;
  /** 1 for the first try; retries count up. */
  attempt: number;
  /** Which API instance it went to (0-based). */
  instance: number;
  /** Epoch ms (Date.now()) at invocation and completion. */
  invoke: number;
  complete: number;
  outcome: Outcome;
}

/** One operation with all its attempts, in order: what the checker judges. */
export interface Operation {
  op: number;
  kind: OpKind;
  key: string | null;
  seats: string[];
  holdId?: string;
  attempts: Attempt[];
}

/** The history: every attempt in memory (for the checker) and as a JSON line in a file. */
export class History {
  readonly attempts: Attempt[] = [];
  private readonly file: WriteStream | null;

  constructor(path: string | null) {
    this.file = path ? createWriteStream(path, { flags: 'w' }) : null;
  }

  record(attempt: Attempt): void {
    this.attempts.push(attempt);
    this.file?.write(`${JSON.stringify(attempt)}\n`);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    return new Promise((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/** Attempts grouped into operations, in operation order. */
export function operationsOf(attempts: readonly Attempt[]): Operation[] {
  const byOp = new Map<number, Operation>();
  for (const attempt of attempts) {
    let op = byOp.get(attempt.op);
    if (!op) {
      op = {
        op: attempt.op,
        kind: attempt.kind,
        key: attempt.key,
        seats: attempt.seats,
        ...(attempt.holdId ? { holdId: attempt.holdId } : {}),
        attempts: [],
      };
      byOp.set(attempt.op, op);
    }
    op.attempts.push(attempt);
  }
  for (const op of byOp.values()) op.attempts.sort((a, b) => a.attempt - b.attempt);
  return [...byOp.values()].sort((a, b) => a.op - b.op);
}

/** The operation's last typed answer, or its last unknown one when it never got a typed answer. */
export const finalOutcome = (op: Operation): Outcome => (op.attempts.at(-1) as Attempt).outcome;
