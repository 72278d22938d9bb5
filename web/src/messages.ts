import { RequestError } from './graphql.js';
import type { Failure } from './operations.js';

/** What a refused seat's reason means to the buyer. */
export const REASON_TEXT: Record<'LOCKED' | 'HELD' | 'SOLD', string> = {
  SOLD: 'has just been sold',
  HELD: 'is held by another buyer who is paying',
  LOCKED: 'is being bought by someone else this very moment; it may come free again',
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A price in the smallest currency unit, shown with two decimals (the API names no currency). */
export function price(cents: number): string {
  return (cents / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** An instant as a person reads it, in their own time zone. */
export function when(iso: string): string {
  return dateTime.format(new Date(iso));
}

/**
 * A typed failure (a union member implementing Error) as a sentence. `seatName` turns a ticket id into
 * "Floor, row A, seat 3". Members the page does not know yet fall back to the server's own message,
 * which is written for people too.
 */
export function describeFailure(failure: Failure, seatName: (ticketId: string) => string): string {
  switch (failure.__typename) {
    case 'TicketsUnavailable': {
      const seats = (failure.tickets ?? []).map((t) => `${seatName(t.ticketId)} ${REASON_TEXT[t.reason]}`);
      return `${seats.join('; ')}. Nothing was held: pick other seats.`;
    }
    case 'SaleNotOpen':
      return failure.opensAt
        ? `The sale has not opened yet: it opens ${when(failure.opensAt)}.`
        : 'The sale has not opened yet.';
    case 'SaleClosed':
      return failure.closedAt ? `The sale closed ${when(failure.closedAt)}.` : 'The sale is closed.';
    case 'PurchaseLimitReached':
      return `You can have at most ${failure.limit} tickets for this event and already have ${failure.held}. Choose fewer seats.`;
    case 'HoldExpired':
      return `Your hold ran out${failure.expiredAt ? ` at ${time.format(new Date(failure.expiredAt))}` : ''}. The seats went back on sale and nothing was bought.`;
    case 'InvalidInput':
      return (failure.problems ?? []).map((p) => p.message).join(' ') || 'The request was not valid.';
    case 'IdempotencyKeyReused':
      return 'That request was already used for other seats, so nothing was done. Please try again.';
    case 'NotFound':
      return 'That no longer exists. Reload the page to see the current state.';
    default:
      return failure.message ?? 'That did not work.';
  }
}

/** A failed request (GraphQL error with a code, or no answer) as a sentence. */
export function describeError(error: unknown): string {
  if (!(error instanceof RequestError)) return 'Something went wrong in this page. Reload it and try again.';
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return 'Your sign-in is not valid (the token is wrong or has expired). Sign in again.';
    case 'FORBIDDEN':
      return 'Your account may not do that.';
    case 'RATE_LIMITED':
      return `Too many attempts in a short time. Try again in ${error.retryAfterSeconds ?? 'a few'} seconds.`;
    case 'SERVICE_UNAVAILABLE':
      return 'The ticket service is briefly unavailable. Try again in a moment; nothing is bought twice.';
    case 'NETWORK':
      return 'The server could not be reached. Check your connection and try again; nothing is bought twice.';
    case 'BAD_USER_INPUT':
      return error.message;
    default:
      return 'Something went wrong on our side. Try again in a moment.';
  }
}
