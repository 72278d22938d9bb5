/** The issue's bomb: each of `n` seats asks for its event's first `m` seats again (49 MB at 250 × 1,000). */
export const BOMB = /* GraphQL */ `
  query($e: ID!, $n: Int, $m: Int) {
    event(id: $e) { tickets(first: $n) { edges { node { event { tickets(first: $m) {
      edges { node { id section row seat status version } }
    } } } } } }
  }
`;

/** The bomb with its page sizes written in the document. */
export const LITERAL_BOMB = BOMB.replace('$n: Int, $m: Int', '')
  .replace('first: $n', 'first: 250')
  .replace('first: $m', 'first: 1000');

/** A seat map's page, as the README's gap-free recipe loads it, with every seat field. */
export const SEAT_PAGE = /* GraphQL */ `
  query SeatPage($e: ID!, $after: String) {
    event(id: $e) {
      id name availability { available held sold total }
      tickets(first: 1000, after: $after) {
        edges { cursor node { id section row seat priceCents status version statusChangedAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

/**
 * Fragments spread into fragments, within the depth and token limits: each spreads the one before it
 * 60 times, so estimating it would evaluate 21,600 selections.
 */
export function fragmentBomb(): string {
  const fragments = ['fragment F0 on Ticket { id section row seat status version }'];
  for (let k = 1; k <= 2; k++) fragments.push(`fragment F${k} on Ticket { ${`...F${k - 1} `.repeat(60)}}`);
  return `query($e: ID!, $n: Int) { event(id: $e) { tickets(first: $n) { edges { node { ...F2 } } } } }
    ${fragments.join('\n')}`;
}
