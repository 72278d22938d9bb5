import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import { decodeGlobalId, encodeGlobalId } from './global-id.js';

/** The one SchemaBuilder. Types live in ./types, one file each. */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { customer: boolean; organizer: boolean };
  Scalars: { DateTime: { Input: Date; Output: Date }; Version: { Input: number; Output: number } };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, ErrorsPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({
      customer: context.viewer !== null,
      organizer: context.viewer?.role === 'organizer',
    }),
    unauthorizedError: (_parent, context) =>
      context.viewer === null
        ? new GraphQLError('Sign in first: send "Authorization: Bearer <token>".', {
            extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
          })
        : new GraphQLError('You are not allowed to do this.', { extensions: { code: 'FORBIDDEN' } }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    encodeGlobalID: encodeGlobalId,
    decodeGlobalID: decodeGlobalId,
  },
  errors: { defaultTypes: [] },
});

builder.queryType({ description: 'Read the catalogue of events and seats, and your own orders.' });
builder.mutationType({ description: 'Buy tickets.' });
