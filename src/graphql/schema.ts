import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './types/scalars.js';
import './types/errors.js';
import './types/refs.js';
import './types/ticket.js';
import './types/event.js';
import './types/order.js';
import './types/hold.js';
import './types/best-available.js';
import './types/customer.js';
import './types/purchase.js';
import './types/availability.js';
import './types/organizer.js';

/** The executable schema, sorted so the printed SDL is stable. */
export const schema = lexicographicSortSchema(builder.toSchema());
