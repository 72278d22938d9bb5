import type { InputProblem } from '../errors.js';

/**
 * A block of seats sold at one price: rows (a count, labelled 1…n, or the labels themselves), each
 * with seats numbered 1…seatsPerRow. Or, with `generalAdmission`, `capacity` units with no seat of
 * their own (one row labelled `GA`, units numbered 1…capacity), bought as "any N".
 */
export type SectionLayout = SeatedSection | GeneralAdmissionSection;

/** Rows of numbered seats. */
export interface SeatedSection {
  name: string;
  generalAdmission?: false | null | undefined;
  rows: number | string[];
  seatsPerRow: number;
  priceCents: number;
}

/** A standing area (a lawn, a floor): `capacity` interchangeable units. */
export interface GeneralAdmissionSection {
  name: string;
  generalAdmission: true;
  capacity: number;
  priceCents: number;
}

/** The row label of every unit of a general-admission section. */
export const GA_ROW = 'GA';

/** What an organizer (or the seed) gives to create an event and all its tickets. */
export interface NewEvent {
  /** A fixed id makes creation idempotent: creating the same id again changes nothing. */
  id?: string;
  name: string;
  venue: string;
  startsAt: Date;
  saleOpensAt?: Date | null;
  saleClosesAt?: Date | null;
  perCustomerLimit?: number | null;
  /** How long a hold keeps its seats, 1-60 minutes; absent: the server's HOLD_TTL_MS. */
  holdMinutes?: number | null;
  sections: SectionLayout[];
}

/** The largest event this API will lay out in one request. */
export const EVENT_LIMITS = {
  sections: 50,
  rowsPerSection: 200,
  seatsPerRow: 500,
  /** Most units of one general-admission section (the event's seat limit applies too). */
  capacity: 100_000,
  seats: 100_000,
  priceCents: 10_000_000,
  text: 120,
  perCustomerLimit: 100,
  holdMinutes: 60,
} as const;

const isValidDate = (date: Date | null | undefined) => date instanceof Date && !Number.isNaN(date.getTime());

/** Every problem with a new event, at once; an empty list means it may be created. */
export function validateNewEvent(input: NewEvent): InputProblem[] {
  const problems: InputProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  const text = (path: string, value: string) => {
    if (value.trim() === '') problem(path, 'must not be empty');
    else if (value.length > EVENT_LIMITS.text) problem(path, `must be at most ${EVENT_LIMITS.text} characters`);
  };
  const count = (path: string, value: number, max: number) => {
    if (!Number.isInteger(value) || value < 1) problem(path, 'must be a whole number of at least 1');
    else if (value > max) problem(path, `must be at most ${max}`);
  };

  text('name', input.name);
  text('venue', input.venue);
  if (!isValidDate(input.startsAt)) problem('startsAt', 'must be a valid instant');
  if (input.saleOpensAt && input.saleClosesAt && input.saleOpensAt >= input.saleClosesAt) {
    problem('saleClosesAt', 'must be after saleOpensAt');
  }
  if (input.perCustomerLimit != null) count('perCustomerLimit', input.perCustomerLimit, EVENT_LIMITS.perCustomerLimit);
  if (input.holdMinutes != null) count('holdMinutes', input.holdMinutes, EVENT_LIMITS.holdMinutes);

  if (input.sections.length === 0) problem('sections', 'must list at least one section');
  if (input.sections.length > EVENT_LIMITS.sections) problem('sections', `must list at most ${EVENT_LIMITS.sections}`);
  const names = new Set<string>();
  let seats = 0;
  input.sections.forEach((section, i) => {
    const at = `sections.${i}`;
    text(`${at}.name`, section.name);
    const key = section.name.trim().toLowerCase();
    if (key && names.has(key)) problem(`${at}.name`, `duplicates another section's name "${section.name}"`);
    names.add(key);
    if (section.generalAdmission) {
      count(`${at}.capacity`, section.capacity, EVENT_LIMITS.capacity);
      if (section.capacity > 0) seats += section.capacity;
    } else {
      seats += seatedCount(section, at, problem, count);
    }
    if (
      !Number.isInteger(section.priceCents) ||
      section.priceCents < 0 ||
      section.priceCents > EVENT_LIMITS.priceCents
    ) {
      problem(`${at}.priceCents`, `must be a whole number from 0 to ${EVENT_LIMITS.priceCents}`);
    }
  });
  if (seats > EVENT_LIMITS.seats)
    problem('sections', `lay out ${seats} seats; at most ${EVENT_LIMITS.seats} are allowed`);
  return problems;
}

/** Checks a seated section's rows and seats; returns how many seats it lays out (0 if broken). */
function seatedCount(
  section: SeatedSection,
  at: string,
  problem: (path: string, message: string) => void,
  count: (path: string, value: number, max: number) => void,
): number {
  const rows = typeof section.rows === 'number' ? section.rows : section.rows.length;
  count(`${at}.rows`, rows, EVENT_LIMITS.rowsPerSection);
  if (Array.isArray(section.rows)) {
    const labels = new Set(section.rows.map((label) => label.trim()));
    if (labels.size !== section.rows.length || labels.has(''))
      problem(`${at}.rows`, 'row labels must be distinct and not empty');
  }
  count(`${at}.seatsPerRow`, section.seatsPerRow, EVENT_LIMITS.seatsPerRow);
  return rows > 0 && section.seatsPerRow > 0 ? rows * section.seatsPerRow : 0;
}
