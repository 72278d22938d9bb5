import { GraphQLError } from 'graphql';
import type { Viewer } from '../../auth/tokens.js';
import type { Context } from '../context.js';

/**
 * The signed-in caller, or UNAUTHENTICATED (HTTP 401). Guarded resolvers call this (or
 * {@link requireOrganizer}) first, before any other work. A plain check rather than
 * @pothos/plugin-scope-auth: its per-request cache and resolver steps cost about a fifth of the CPU of
 * a refused purchase (an in-process benchmark), and two roles need no scope algebra.
 */
export function requireCustomer(context: Context): Viewer {
  if (!context.viewer) {
    throw new GraphQLError('Sign in first: send "Authorization: Bearer <token>".', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  return context.viewer;
}

/** The caller if they are an organizer; UNAUTHENTICATED without a token, FORBIDDEN for anyone else. */
export function requireOrganizer(context: Context): Viewer {
  const viewer = requireCustomer(context);
  if (viewer.role !== 'organizer') {
    throw new GraphQLError('You are not allowed to do this.', { extensions: { code: 'FORBIDDEN' } });
  }
  return viewer;
}
