/**
 * A keyset page request: rows strictly after `after` and strictly before `before` in the list's own
 * order (either may be absent), at most `limit` of them, read from the far end when `inverted`
 * (`last`). A key names a row, never a count of rows, so rows that join or leave the list between two
 * requests (a seat that sells under `status: AVAILABLE`) shift nothing: no row is skipped or repeated.
 */
export interface KeysetPage<Key> {
  after?: Key | undefined;
  before?: Key | undefined;
  limit: number;
  inverted: boolean;
}
