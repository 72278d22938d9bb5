import type { Availability, SectionAvailability } from '../../catalog/storage.js';
import type { EventRow, HoldRow, OrderRow, TicketRow } from '../../db/schema.js';
import { builder } from '../builder.js';

// Refs are declared apart from their implementations so types can point at each other
// (Event.tickets, Ticket.event) without circular imports.

export const EventRef = builder.objectRef<EventRow>('Event');
export const TicketRef = builder.objectRef<TicketRow>('Ticket');
export const OrderRef = builder.objectRef<OrderRow>('Order');
export const HoldRef = builder.objectRef<HoldRow>('Hold');
export const CustomerRef = builder.objectRef<{ id: string }>('Customer');
export const AvailabilityRef = builder.objectRef<Availability>('Availability');
export const SectionRef = builder.objectRef<SectionAvailability>('Section');
