import { AVAILABILITY_SUBSCRIPTION, openSubscriber } from '../live.js';
import type { Heard, SeatMap } from './hold-checkout-buyers.js';
import { bump } from './hold-checkout-report.js';

/**
 * hold-checkout's one live subscriber: it keeps the buyers' seat map up to date from
 * `ticketAvailability`, and logs when each seat's change arrived (the expiry checks read it).
 */
export class HoldListener {
  /** Per seat, every change heard, in order of arrival. */
  readonly heard: Heard[][] = [];
  messages = 0;
  readonly failures: Record<string, number> = {};
  private close: (() => void) | null = null;

  constructor(
    private readonly map: SeatMap,
    private readonly seatOf: ReadonlyMap<string, number>,
  ) {}

  /** Subscribes over graphql-ws; resolves on the first message (the current counts). */
  async start(url: string, eventGlobalId: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('hold-checkout: the subscriber got no first message in 10 s')),
        10_000,
      );
      this.close = openSubscriber(
        url.replace(/^http/, 'ws'),
        AVAILABILITY_SUBSCRIPTION,
        { id: eventGlobalId },
        {
          first: (result) => {
            clearTimeout(timer);
            if (result.data?.ticketAvailability) resolve();
            else reject(new Error(`hold-checkout: the subscription failed: ${JSON.stringify(result.errors)}`));
          },
          next: (raw) => this.hear(raw),
          fail: (reason) => {
            clearTimeout(timer);
            bump(this.failures, reason);
            reject(new Error(`hold-checkout: the subscriber failed: ${reason}`));
          },
        },
      );
    });
  }

  stop(): void {
    this.close?.();
    this.close = null;
  }

  /** The subscriber's messages, parsed in full (one subscriber): the seat map, and when each change arrived. */
  private hear(raw: Buffer): void {
    const arrival = Date.now();
    this.messages++;
    const message = JSON.parse(raw.toString('utf8')) as {
      payload?: {
        data?: {
          ticketAvailability?: {
            changedTickets?: Array<{ id: string; status: string; version: number; statusChangedAt: string | null }>;
          };
        };
      };
    };
    for (const ticket of message.payload?.data?.ticketAvailability?.changedTickets ?? []) {
      const seat = this.seatOf.get(ticket.id);
      if (seat === undefined) continue;
      this.map.heard(seat, ticket.status, ticket.version);
      const changedAt = ticket.statusChangedAt ? Date.parse(ticket.statusChangedAt) : 0;
      let log = this.heard[seat];
      if (!log) {
        log = [];
        this.heard[seat] = log;
      }
      log.push({ status: ticket.status, changedAt, arrival });
    }
  }
}
