import { price } from './messages.js';
import type { Seat } from './operations.js';

/** What the buyer has to do with a seat, beyond its status. */
export type Mark = 'selected' | 'mine-held' | 'mine-sold';

/** How a seat looks: its status as this buyer sees it. */
type Look = 'available' | 'selected' | 'held' | 'sold' | 'mine-held' | 'mine-sold';

const LOOK_TEXT: Record<Look, string> = {
  available: 'available',
  selected: 'selected',
  held: 'held by another buyer',
  sold: 'sold',
  'mine-held': 'held for you',
  'mine-sold': 'yours',
};

export interface SeatGridHandlers {
  /** Click, Enter or Space on a seat. */
  onActivate(seat: Seat): void;
  /** Keyboard focus or the pointer reached a seat. */
  onPoint(seat: Seat): void;
}

interface Row {
  label: string;
  cells: number[];
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** The look of `seat` for this buyer: a mark counts only while the status still agrees with it. */
function lookOf(seat: Seat, mark: Mark | undefined): Look {
  if (seat.status === 'AVAILABLE') return mark === 'selected' ? 'selected' : 'available';
  if (seat.status === 'HELD') return mark === 'mine-held' ? 'mine-held' : 'held';
  return mark === 'mine-sold' ? 'mine-sold' : 'sold';
}

/**
 * The seat map's seats, drawn and updated straight in the DOM rather than through Preact: a live
 * message touches only the seats it names (a virtual-DOM pass over 10,000 seats per message would
 * cost more than the change), and the first draw is one `innerHTML` of the whole map. It is one ARIA
 * grid: a row group per section, a row per seat row, a focusable cell per seat with a label that says
 * where it is, what it costs and whether it can be had. One seat at a time is in the tab order
 * (roving tabindex); arrow keys move between seats and rows (across sections), Home and End to a
 * row's ends, Page Up and Page Down between sections, Enter or Space choose.
 */
export class SeatGrid {
  private seats: Seat[] = [];
  private cells: HTMLElement[] = [];
  private looks: Look[] = [];
  private readonly index = new Map<string, number>();
  private marks = new Map<string, Mark>();
  private rows: Row[] = [];
  /** Per seat: its row (in `rows`) and its place in that row. */
  private rowOf: number[] = [];
  private colOf: number[] = [];
  /** Where the next seats drawn continue. */
  private lastSection: string | undefined;
  private lastRow: Row | undefined;
  /** The first row of each section, in order. */
  private sectionStarts: number[] = [];
  private focused = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly handlers: SeatGridHandlers,
  ) {
    root.setAttribute('role', 'grid');
    root.addEventListener('click', this.onClick);
    root.addEventListener('keydown', this.onKey);
    root.addEventListener('focusin', this.onFocusIn);
    root.addEventListener('pointerover', this.onPointerOver);
  }

  /** Draws `seats` (in seat-map order: by section, then row) with `marks`, replacing what was drawn. */
  render(seats: Seat[], marks: Map<string, Mark>): void {
    this.reset(marks);
    this.append(seats);
  }

  /** Empties the map, keeping `marks` for the seats drawn next. */
  reset(marks: Map<string, Mark>): void {
    this.seats = [];
    this.cells = [];
    this.looks = [];
    this.index.clear();
    this.rows = [];
    this.sectionStarts = [];
    this.rowOf = [];
    this.colOf = [];
    this.marks = new Map(marks);
    this.focused = 0;
    this.lastSection = undefined;
    this.lastRow = undefined;
    this.root.textContent = '';
  }

  /**
   * Draws the seats that come next in seat-map order, so a map shows page by page as it loads. The new
   * seats continue the last row, then the last section, then open new sections; each part is one
   * `insertAdjacentHTML`, which closes what it leaves open.
   */
  append(seats: Seat[]): void {
    const parts: Record<'row' | 'rows' | 'sections', string[]> = { row: [], rows: [], sections: [] };
    let target: keyof typeof parts = 'row';
    let rowOpen = false;
    let sectionOpen = false;
    const first = this.seats.length;
    for (const seat of seats) {
      const i = this.seats.length;
      this.seats.push(seat);
      this.index.set(seat.id, i);
      if (seat.section !== this.lastSection) {
        target = 'sections';
        if (rowOpen) parts.sections.push('</div>');
        if (sectionOpen) parts.sections.push('</div></div>');
        parts.sections.push(
          `<div class="section" role="rowgroup" aria-label="${escapeHtml(seat.section)}"><div class="section-head" aria-hidden="true"><span class="section-name">${escapeHtml(seat.section)}</span><span class="section-price">${price(seat.priceCents)}</span></div><div class="section-rows">`,
        );
        sectionOpen = true;
        rowOpen = false;
        this.lastSection = seat.section;
        this.lastRow = undefined;
        this.sectionStarts.push(this.rows.length);
      }
      if (!this.lastRow || seat.row !== this.lastRow.label) {
        if (target === 'row') target = 'rows';
        if (rowOpen) parts[target].push('</div>');
        parts[target].push(
          `<div class="row" role="row"><span class="row-label" role="rowheader">${escapeHtml(seat.row)}</span>`,
        );
        rowOpen = true;
        this.lastRow = { label: seat.row, cells: [] };
        this.rows.push(this.lastRow);
      }
      this.rowOf[i] = this.rows.length - 1;
      this.colOf[i] = this.lastRow.cells.length;
      this.lastRow.cells.push(i);
      const look = lookOf(seat, this.marks.get(seat.id));
      this.looks[i] = look;
      parts[target].push(
        `<span class="seat ${look}" role="gridcell" tabindex="${i === 0 ? 0 : -1}" data-i="${i}" data-id="${escapeHtml(seat.id)}" aria-label="${escapeHtml(this.label(seat, look))}"${look === 'selected' ? ' aria-selected="true"' : ''}${selectable(look) ? '' : ' aria-disabled="true"'}></span>`,
      );
    }
    const lastRows = this.root.lastElementChild?.lastElementChild;
    if (parts.row.length > 0) lastRows?.lastElementChild?.insertAdjacentHTML('beforeend', parts.row.join(''));
    if (parts.rows.length > 0) lastRows?.insertAdjacentHTML('beforeend', parts.rows.join(''));
    if (parts.sections.length > 0) this.root.insertAdjacentHTML('beforeend', parts.sections.join(''));
    const all = this.root.querySelectorAll<HTMLElement>('.seat');
    for (let i = first; i < all.length; i++) this.cells[i] = all[i] as HTMLElement;
  }

  /** Applies newer states of seats (the caller has already kept only newer versions). */
  update(seats: Seat[]): void {
    for (const seat of seats) {
      const i = this.index.get(seat.id);
      if (i === undefined) continue;
      this.seats[i] = seat;
      this.paint(i);
    }
  }

  /** Replaces the buyer's marks, repainting only the seats whose mark changed. */
  setMarks(marks: Map<string, Mark>): void {
    const touched = new Set([...this.marks.keys(), ...marks.keys()]);
    const before = this.marks;
    this.marks = new Map(marks);
    for (const id of touched) {
      if (before.get(id) === marks.get(id)) continue;
      const i = this.index.get(id);
      if (i !== undefined) this.paint(i);
    }
  }

  /** The seat with this id, as last drawn. */
  seat(id: string): Seat | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.seats[i];
  }

  /** "Floor, row A, seat 3" for a seat id (or the id's own text if the map does not have it). */
  name(id: string): string {
    const seat = this.seat(id);
    return seat ? `${seat.section}, row ${seat.row}, seat ${seat.seat}` : 'A seat';
  }

  /** How a seat stands for this buyer, in words ("held for you"). */
  describe(id: string): string {
    const i = this.index.get(id);
    return i === undefined ? '' : LOOK_TEXT[this.looks[i] as Look];
  }

  /** Every seat, in seat-map order. */
  all(): readonly Seat[] {
    return this.seats;
  }

  destroy(): void {
    this.root.removeEventListener('click', this.onClick);
    this.root.removeEventListener('keydown', this.onKey);
    this.root.removeEventListener('focusin', this.onFocusIn);
    this.root.removeEventListener('pointerover', this.onPointerOver);
    this.root.textContent = '';
  }

  private label(seat: Seat, look: Look): string {
    return `${seat.section}, row ${seat.row}, seat ${seat.seat}, ${price(seat.priceCents)}: ${LOOK_TEXT[look]}`;
  }

  private paint(i: number): void {
    const seat = this.seats[i] as Seat;
    const look = lookOf(seat, this.marks.get(seat.id));
    if (this.looks[i] === look) return;
    this.looks[i] = look;
    const cell = this.cells[i] as HTMLElement;
    cell.className = `seat ${look}`;
    cell.setAttribute('aria-label', this.label(seat, look));
    if (look === 'selected') cell.setAttribute('aria-selected', 'true');
    else cell.removeAttribute('aria-selected');
    if (selectable(look)) cell.removeAttribute('aria-disabled');
    else cell.setAttribute('aria-disabled', 'true');
  }

  private cellIndex(target: EventTarget | null): number | undefined {
    const cell = (target as HTMLElement | null)?.closest?.('.seat') as HTMLElement | null;
    return cell ? Number(cell.dataset.i) : undefined;
  }

  private moveTo(i: number): void {
    const from = this.cells[this.focused];
    const to = this.cells[i];
    if (!to) return;
    if (from) from.tabIndex = -1;
    to.tabIndex = 0;
    this.focused = i;
    to.focus();
  }

  private readonly onClick = (event: MouseEvent) => {
    const i = this.cellIndex(event.target);
    if (i === undefined) return;
    this.moveTo(i);
    this.handlers.onActivate(this.seats[i] as Seat);
  };

  private readonly onFocusIn = (event: FocusEvent) => {
    const i = this.cellIndex(event.target);
    if (i === undefined) return;
    if (i !== this.focused) {
      const from = this.cells[this.focused];
      if (from) from.tabIndex = -1;
      (this.cells[i] as HTMLElement).tabIndex = 0;
      this.focused = i;
    }
    this.handlers.onPoint(this.seats[i] as Seat);
  };

  private readonly onPointerOver = (event: PointerEvent) => {
    const i = this.cellIndex(event.target);
    if (i !== undefined) this.handlers.onPoint(this.seats[i] as Seat);
  };

  private readonly onKey = (event: KeyboardEvent) => {
    const i = this.cellIndex(event.target);
    if (i === undefined) return;
    const next = this.neighbour(i, event);
    if (next === 'activate') {
      event.preventDefault();
      this.handlers.onActivate(this.seats[i] as Seat);
    } else if (next !== undefined) {
      event.preventDefault();
      this.moveTo(next);
    }
  };

  /** Where a key moves from seat `i`, or 'activate' for Enter and Space. */
  private neighbour(i: number, event: KeyboardEvent): number | 'activate' | undefined {
    const r = this.rowOf[i] as number;
    const c = this.colOf[i] as number;
    const row = this.rows[r] as Row;
    const inRow = (target: number, col: number) => {
      const cells = (this.rows[target] as Row).cells;
      return cells[Math.min(col, cells.length - 1)];
    };
    const section = this.sectionStarts.findLastIndex((start) => start <= r);
    switch (event.key) {
      case 'Enter':
      case ' ':
        return 'activate';
      case 'ArrowLeft':
        return row.cells[Math.max(0, c - 1)];
      case 'ArrowRight':
        return row.cells[Math.min(row.cells.length - 1, c + 1)];
      case 'ArrowUp':
        return r > 0 ? inRow(r - 1, c) : i;
      case 'ArrowDown':
        return r < this.rows.length - 1 ? inRow(r + 1, c) : i;
      case 'Home':
        return event.ctrlKey ? 0 : row.cells[0];
      case 'End':
        return event.ctrlKey ? this.seats.length - 1 : row.cells.at(-1);
      case 'PageUp':
        return inRow(this.sectionStarts[Math.max(0, section - 1)] as number, c);
      case 'PageDown':
        return inRow(this.sectionStarts[Math.min(this.sectionStarts.length - 1, section + 1)] as number, c);
      default:
        return undefined;
    }
  }
}

/** Whether a buyer may choose a seat that looks like this (or unchoose it). */
function selectable(look: Look): boolean {
  return look === 'available' || look === 'selected';
}
