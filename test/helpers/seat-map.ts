import type { GraphQLResponse, TestApp } from './app.js';

/** A ticket as a seat map holds it. */
export interface SeatState {
  status: string;
  version: number;
}

interface SeatMapPage {
  event: {
    tickets: {
      edges: Array<{ node: SeatState & { id: string } }>;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
}

const PAGE = /* GraphQL */ `
  query SeatMapPage($id: ID!, $after: String) {
    event(id: $id) {
      tickets(first: 1000, after: $after) {
        edges { node { id status version } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

/** Loads an event's whole seat map through the API, a page of 1,000 at a time. */
export async function loadSeatMap(api: TestApp, eventId: string): Promise<Map<string, SeatState>> {
  const seats = new Map<string, SeatState>();
  let after: string | null = null;
  for (;;) {
    const response: GraphQLResponse<SeatMapPage> = await api.gql<SeatMapPage>(PAGE, { id: eventId, after });
    const page: SeatMapPage['event']['tickets'] | undefined = response.data?.event.tickets;
    if (!page) throw new Error(`seat map query failed: ${JSON.stringify(response.errors)}`);
    for (const { node } of page.edges) seats.set(node.id, { status: node.status, version: node.version });
    if (!page.pageInfo.hasNextPage) return seats;
    after = page.pageInfo.endCursor;
  }
}

/** The README's client recipe: keep each ticket's highest version, whatever order news arrives in. */
export class SeatMap {
  private readonly seats = new Map<string, SeatState>();

  load(snapshot: Map<string, SeatState>): void {
    this.apply([...snapshot].map(([id, seat]) => ({ id, ...seat })));
  }

  apply(tickets: Array<SeatState & { id: string }>): void {
    for (const ticket of tickets) {
      const known = this.seats.get(ticket.id);
      if (!known || known.version < ticket.version) {
        this.seats.set(ticket.id, { status: ticket.status, version: ticket.version });
      }
    }
  }

  has(id: string, status: string): boolean {
    return this.seats.get(id)?.status === status;
  }

  statuses(): Map<string, string> {
    return new Map([...this.seats].map(([id, seat]) => [id, seat.status]));
  }
}
