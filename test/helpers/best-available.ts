import { decodeGlobalId } from '../../src/graphql/global-id.js';
import { type TestApp, tokenFor } from './app.js';

export const BEST = /* GraphQL */ `
  mutation Best($input: HoldBestAvailableInput!) {
    holdBestAvailable(input: $input) {
      __typename
      ... on HoldBestAvailableSuccess { hold { id status totalCents tickets { id section row seat status } } }
      ... on NotEnoughSeats { requested available }
      ... on PurchaseLimitReached { limit held }
      ... on InvalidInput { problems { path message } }
      ... on Error { message }
    }
  }
`;

/** A seat of a best-available hold, as the API returns it. */
export interface BestSeat {
  id: string;
  section: string;
  row: string;
  seat: string;
  status: string;
}

export interface BestMember {
  __typename: string;
  hold?: { id: string; status: string; totalCents: number; tickets: BestSeat[] };
  requested?: number;
  available?: number;
  message?: string;
  problems?: Array<{ path: string; message: string }>;
}

/** Asks `testApp` for the best seats as customer `sub`; fails the test on a GraphQL error. */
export async function holdBest(
  testApp: TestApp,
  sub: string,
  input: {
    eventId: string;
    quantity: number;
    together?: boolean;
    sections?: string[];
    maxPriceCents?: number;
    idempotencyKey?: string;
  },
): Promise<BestMember> {
  const response = await testApp.gql<{ holdBestAvailable: BestMember }>(
    BEST,
    { input },
    { token: await tokenFor(sub) },
  );
  if (!response.data) throw new Error(`holdBestAvailable failed: ${JSON.stringify(response.errors)}`);
  return response.data.holdBestAvailable;
}

/** `row:seat` of each seat of a hold, in seat order, for comparing with what the rule says. */
export function seatNames(member: BestMember): string[] {
  return (member.hold?.tickets ?? [])
    .map((t) => ({ name: `${t.row}${t.seat}`, row: t.row, n: Number(t.seat) }))
    .sort((a, b) => a.row.localeCompare(b.row) || a.n - b.n)
    .map((t) => t.name);
}

/** True when a hold's seats are side by side in one row (consecutive seat numbers). */
export function adjacent(member: BestMember): boolean {
  const seats = member.hold?.tickets ?? [];
  const rows = new Set(seats.map((t) => `${t.section}/${t.row}`));
  const numbers = seats.map((t) => Number(t.seat)).sort((a, b) => a - b);
  return rows.size === 1 && numbers.every((n, i) => i === 0 || n === (numbers[i - 1] as number) + 1);
}

/** The database id of a hold's global id. */
export const holdDbId = (member: BestMember) => decodeGlobalId(member.hold?.id ?? '').id;
