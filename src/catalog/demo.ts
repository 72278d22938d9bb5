import type { Db } from '../db/client.js';
import { createEvent, type NewEvent } from './events.js';

const letters = (from: string, count: number) =>
  Array.from({ length: count }, (_, i) => String.fromCharCode(from.charCodeAt(0) + i));
const numbers = (count: number) => Array.from({ length: count }, (_, i) => String(i + 1));

/** The demo sale: a 760-seat hall in four priced sections. Its id is fixed so seeding is idempotent. */
export const DEMO_EVENT: NewEvent = {
  id: '00000000-0000-4000-8000-00000000d3e0',
  name: 'Flux Live: Opening Night',
  venue: 'Riverside Hall',
  startsAt: new Date('2027-06-12T19:30:00.000Z'),
  sections: [
    { name: 'Floor', rows: letters('A', 10), seatsPerRow: 20, priceCents: 12_000 },
    { name: 'Lower 101', rows: numbers(12), seatsPerRow: 15, priceCents: 8_000 },
    { name: 'Lower 102', rows: numbers(12), seatsPerRow: 15, priceCents: 8_000 },
    { name: 'Balcony', rows: letters('K', 8), seatsPerRow: 25, priceCents: 4_500 },
  ],
};

/** Creates the demo event and its seats if they are missing; safe to run any number of times. */
export function seedDemoEvent(db: Db) {
  return createEvent(db, DEMO_EVENT);
}
