/** The operations the page sends, and the shapes of their answers. */

/** Where a seat stands; HELD and SOLD seats cannot be had. */
export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

/** One seat as the page keeps it: from a seat-map page or a live message. */
export interface Seat {
  id: string;
  section: string;
  row: string;
  seat: string;
  priceCents: number;
  status: SeatStatus;
  version: number;
}

/** Ticket counts of an event. */
export interface Counts {
  available: number;
  held: number;
  sold: number;
  total: number;
}

export interface EventSummary {
  id: string;
  name: string;
  venue: string;
  startsAt: string;
  onSale: boolean;
  saleOpensAt: string | null;
  saleClosesAt: string | null;
  perCustomerLimit: number | null;
  availability: Counts;
}

const SEAT_FIELDS = 'id section row seat priceCents status version';
const EVENT_FIELDS =
  'id name venue startsAt onSale saleOpensAt saleClosesAt perCustomerLimit availability { available held sold total }';

export const EVENTS = /* GraphQL */ `
  query Events {
    events(first: 50) { edges { node { ${EVENT_FIELDS} } } }
  }
`;
export interface EventsData {
  events: { edges: Array<{ node: EventSummary }> };
}

/** One page of an event's seat map, in seat-map order (the README's recipe, step 2). */
export const SEAT_PAGE = /* GraphQL */ `
  query SeatMapPage($id: ID!, $after: String) {
    event(id: $id) {
      ${EVENT_FIELDS}
      tickets(first: 1000, after: $after) {
        edges { node { ${SEAT_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;
export interface SeatPageData {
  event:
    | (EventSummary & {
        tickets: { edges: Array<{ node: Seat }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      })
    | null;
}

/** The live seat map (the README's recipe, step 1). */
export const LIVE = /* GraphQL */ `
  subscription Live($eventId: ID!) {
    ticketAvailability(eventId: $eventId) {
      available held sold total
      changedTickets { ${SEAT_FIELDS} }
    }
  }
`;
export interface LiveData {
  ticketAvailability: Counts & { changedTickets: Seat[] };
}

export const ME = /* GraphQL */ `
  query Me {
    me {
      id
      holds(first: 10, status: ACTIVE) {
        edges { node { id expiresInSeconds totalCents event { id } tickets { id } } }
      }
    }
  }
`;
/** A hold as the page shows it. */
export interface HoldView {
  id: string;
  expiresInSeconds: number;
  totalCents: number;
  tickets: Array<{ id: string }>;
}
/** A hold as a mutation answers it: its seats as they stand after the change, to apply as the map's own news. */
export interface HoldAnswer extends HoldView {
  tickets: Seat[];
}
export interface MeData {
  me: {
    id: string;
    holds: { edges: Array<{ node: HoldView & { event: { id: string } } }> };
  } | null;
}

/** A typed failure: a union member implementing Error, with the fields the page asks of its kind. */
export interface Failure {
  __typename: string;
  message?: string;
  tickets?: Array<{ ticketId: string; reason: 'LOCKED' | 'HELD' | 'SOLD' }>;
  opensAt?: string;
  closedAt?: string;
  limit?: number;
  held?: number;
  expiredAt?: string;
  problems?: Array<{ path: string; message: string }>;
  requested?: number;
  available?: number;
}

export const HOLD = /* GraphQL */ `
  mutation Hold($ticketIds: [ID!]!, $key: String!) {
    holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) {
      __typename
      ... on HoldSeatsSuccess { hold { id expiresInSeconds totalCents tickets { ${SEAT_FIELDS} } } }
      ... on TicketsUnavailable { tickets { ticketId reason } }
      ... on SaleNotOpen { opensAt }
      ... on SaleClosed { closedAt }
      ... on PurchaseLimitReached { limit held }
      ... on InvalidInput { problems { path message } }
      ... on Error { message }
    }
  }
`;
export interface HoldData {
  holdSeats: Failure & { hold?: HoldAnswer };
}

export const BEST = /* GraphQL */ `
  mutation Best($eventId: ID!, $quantity: Int!, $together: Boolean!, $key: String!) {
    holdBestAvailable(input: { eventId: $eventId, quantity: $quantity, together: $together, idempotencyKey: $key }) {
      __typename
      ... on HoldBestAvailableSuccess { hold { id expiresInSeconds totalCents tickets { ${SEAT_FIELDS} } } }
      ... on NotEnoughSeats { requested available }
      ... on SaleNotOpen { opensAt }
      ... on SaleClosed { closedAt }
      ... on PurchaseLimitReached { limit held }
      ... on InvalidInput { problems { path message } }
      ... on Error { message }
    }
  }
`;
export interface BestData {
  holdBestAvailable: Failure & { hold?: HoldAnswer };
}

export const CHECKOUT = /* GraphQL */ `
  mutation Checkout($holdId: ID!, $key: String!) {
    checkout(input: { holdId: $holdId, idempotencyKey: $key }) {
      __typename
      ... on CheckoutSuccess { order { id totalCents tickets { ${SEAT_FIELDS} } } }
      ... on HoldExpired { expiredAt }
      ... on Error { message }
    }
  }
`;
export interface CheckoutData {
  checkout: Failure & { order?: { id: string; totalCents: number; tickets: Seat[] } };
}

export const RELEASE = /* GraphQL */ `
  mutation Release($holdId: ID!) {
    releaseHold(holdId: $holdId) {
      __typename
      ... on ReleaseHoldSuccess { hold { id status tickets { ${SEAT_FIELDS} } } }
      ... on Error { message }
    }
  }
`;
export interface ReleaseData {
  releaseHold: Failure & { hold?: { id: string; status: string; tickets: Seat[] } };
}

/** Re-reads a hold's countdown after the page wakes (README: count down from the server's clock). */
export const HOLD_STATE = /* GraphQL */ `
  query HoldState($id: ID!) {
    node(id: $id) { ... on Hold { id status expiresInSeconds } }
  }
`;
export interface HoldStateData {
  node: { id: string; status: string; expiresInSeconds: number } | null;
}
