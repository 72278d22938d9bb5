import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the purchase service reports after each call (see PurchaseServiceDeps.observe). */
export interface Outcome {
  /** purchase, hold, checkout, release or cancel. */
  operation: string;
  /** `ok`, or the expected failure's name (TicketsUnavailable, HoldExpired…), or `error`. */
  outcome: string;
  /** For a refused seat: LOCKED, HELD or SOLD. */
  reason?: string | undefined;
  seconds: number;
}

/** The domain's metrics on one registry, beside the GraphQL ones yoga's plugin adds to it. */
export interface Metrics {
  registry: Registry;
  outcome(outcome: Outcome): void;
  /** Time to take a request's seat locks (one Redis round trip). */
  lockTaken(seconds: number): void;
  published(messages: number): void;
  holdsExpired(count: number): void;
  /** A group commit ended: its size, and `committed`, `fallback` (each committed alone) or `failed`. */
  groupCommitted(size: number, outcome: string): void;
  /** Winners of a committed group whose own statement failed and who were committed alone after it. */
  groupRetried(count: number): void;
}

/** Values read when /metrics is scraped. */
export interface MetricSources {
  liveSubscribers(): number;
  liveEvents(): number;
  resyncBlocksRead(): number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Builds the registry: attempts by outcome and reason, lock and sale latency, live and hold gauges. */
export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const attempts = new Counter({
    name: 'flux_attempts_total',
    help: 'Purchase-service calls by operation, outcome and refusal reason.',
    labelNames: ['operation', 'outcome', 'reason'],
    registers,
  });
  const latency = new Histogram({
    name: 'flux_operation_seconds',
    help: 'Purchase-service call latency, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const lock = new Histogram({
    name: 'flux_lock_seconds',
    help: "Time to take a request's seat locks in Redis.",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const messages = new Counter({
    name: 'flux_live_messages_published_total',
    help: 'Ticket-change messages published to the live bus.',
    registers,
  });
  const groupSize = new Histogram({
    name: 'flux_group_commit_size',
    help: 'Winners per group commit (one Postgres transaction), by how the group ended.',
    labelNames: ['outcome'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers,
  });
  const groupRetried = new Counter({
    name: 'flux_group_commit_retried_total',
    help: 'Winners whose own statement failed inside a committed group and who were committed alone after it.',
    registers,
  });
  const expired = new Counter({ name: 'flux_holds_expired_total', help: 'Holds ended by the sweeper.', registers });
  new Gauge({
    name: 'flux_live_subscribers',
    help: 'Live seat-map subscribers on this instance.',
    registers,
    collect() {
      this.set(sources.liveSubscribers());
    },
  });
  new Gauge({
    name: 'flux_live_events',
    help: 'Events watched on this instance.',
    registers,
    collect() {
      this.set(sources.liveEvents());
    },
  });
  new Gauge({
    name: 'flux_live_resync_blocks_read',
    help: "Blocks of seats read again because this instance's copy had missed a change (a repair), since start.",
    registers,
    collect() {
      this.set(sources.resyncBlocksRead());
    },
  });
  return {
    registry,
    outcome(o) {
      attempts.inc({ operation: o.operation, outcome: o.outcome, reason: o.reason ?? '' });
      latency.observe({ operation: o.operation, outcome: o.outcome }, o.seconds);
    },
    lockTaken: (seconds) => lock.observe(seconds),
    published: (count) => messages.inc(count),
    holdsExpired: (count) => expired.inc(count),
    groupCommitted: (size, outcome) => groupSize.observe({ outcome }, size),
    groupRetried: (count) => groupRetried.inc(count),
  };
}
