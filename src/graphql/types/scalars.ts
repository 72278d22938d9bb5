import { GraphQLError } from 'graphql';
import { builder } from '../builder.js';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string with a time zone, e.g. "2026-12-31T20:00:00.000Z".',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) {
      throw new GraphQLError('DateTime must be an ISO-8601 string.', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return date;
  },
});

builder.scalarType('Version', {
  description: 'A change counter: a non-negative integer sent as a JSON number (exact up to 2^53).',
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new GraphQLError('Version must be a non-negative integer.', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return value;
  },
});
