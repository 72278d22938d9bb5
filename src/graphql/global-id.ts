import { GraphQLError } from 'graphql';
import { ticketKey } from '../catalog/ticket-key.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Relay global id: base64 of `Typename:uuid`. */
export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64');
}

function malformed(globalId: string): GraphQLError {
  return new GraphQLError(`"${globalId.slice(0, 64)}" is not a valid id.`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

/**
 * Decodes a global id and checks its shape, so a malformed id is a clear BAD_USER_INPUT error
 * before any resolver or query runs. Node keys are a UUID, or for tickets `eventUuid/ticketUuid`.
 */
export function decodeGlobalId(globalId: string): { typename: string; id: string } {
  if (globalId.length > 200) throw malformed(globalId);
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const typename = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  const parts = id.split('/');
  const wellFormed = parts.length === (typename === 'Ticket' ? 2 : 1) && parts.every((part) => UUID.test(part));
  if (separator < 1 || !/^[A-Za-z]+$/.test(typename) || !wellFormed) throw malformed(globalId);
  return { typename, id: id.toLowerCase() };
}

/** The global id of a ticket. */
export function ticketGlobalId(ticket: { id: string; eventId: string }): string {
  return encodeGlobalId('Ticket', ticketKey(ticket));
}
