import { type DefaultConnectionArguments, resolveCursorConnection } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type { KeysetPage } from '../catalog/keyset-page.js';
import type { PageSize } from './page-sizes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How one connection's rows are named in its cursors: opaque base64 of `<kind>:<key>`. */
export interface KeysetCursor<Key> {
  kind: string;
  encode(key: Key): string;
  /** The key, or undefined when the text is not this kind's key. */
  parse(text: string): Key | undefined;
}

/** Cursors naming a seat by its seat-map position (unique within an event). */
export const SEAT_POSITION_CURSOR: KeysetCursor<number> = {
  kind: 'Seat',
  encode: String,
  parse: (text) => (/^\d{1,9}$/.test(text) ? Number(text) : undefined),
};

/** Cursors naming a row by its UUID: the list orders by a key the database reads from that row. */
export function idCursor(kind: string): KeysetCursor<string> {
  return { kind, encode: (id) => id, parse: (text) => (UUID.test(text) ? text.toLowerCase() : undefined) };
}

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function decodeCursor<Key>(cursor: KeysetCursor<Key>, text: string, argument: string): Key {
  const decoded = text.length <= 200 ? Buffer.from(text, 'base64').toString('utf8') : '';
  const prefix = `${cursor.kind}:`;
  const key = decoded.startsWith(prefix) ? cursor.parse(decoded.slice(prefix.length)) : undefined;
  if (key === undefined)
    throw badInput(`"${argument}" is not a cursor of this list; pass an endCursor or startCursor it gave.`);
  return key;
}

/** One page of a connection, as Pothos expects a resolver to return it. */
export interface KeysetConnection<Row> {
  edges: Array<{ cursor: string; node: Row }>;
  pageInfo: { startCursor?: string | null; endCursor?: string | null; hasPreviousPage: boolean; hasNextPage: boolean };
}

/**
 * Resolves a Relay connection by keyset: `first`/`after` read forward, `last` (with or without
 * `before`) reads back from the end. Arguments a client can get wrong (a negative size, `first` with
 * `last`, a cursor of another list) are BAD_USER_INPUT errors, never masked internal ones.
 */
export function resolveKeysetConnection<Row, Key>(
  options: { args: DefaultConnectionArguments; page: PageSize; cursor: KeysetCursor<Key>; keyOf(row: Row): Key },
  fetch: (page: KeysetPage<Key>) => Promise<Row[]>,
): Promise<KeysetConnection<Row>> {
  const { args, cursor } = options;
  if ((args.first ?? 0) < 0 || (args.last ?? 0) < 0) throw badInput('"first" and "last" must not be negative.');
  if (args.first != null && args.last != null) {
    throw badInput('Pass "first" (to read forward) or "last" (to read back from the end), not both.');
  }
  const after = args.after == null ? undefined : decodeCursor(cursor, args.after, 'after');
  const before = args.before == null ? undefined : decodeCursor(cursor, args.before, 'before');
  return resolveCursorConnection<Promise<Row[]>>(
    {
      args,
      defaultSize: options.page.defaultSize,
      maxSize: options.page.maxSize,
      toCursor: (row: Row) => Buffer.from(`${cursor.kind}:${cursor.encode(options.keyOf(row))}`).toString('base64'),
    },
    ({ limit, inverted }) => fetch({ after, before, limit, inverted }),
  ) as Promise<KeysetConnection<Row>>;
}
