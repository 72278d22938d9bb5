import { useState } from 'preact/hooks';
import { price } from './messages.js';
import type { Seat } from './operations.js';
import { clock, type Notice, useCountdown } from './views.js';

/** A hold of this buyer, as the page shows it. */
export interface ActiveHold {
  id: string;
  /** When it ends, on `performance.now()`'s clock: its `expiresInSeconds` counted from the answer. */
  deadline: number;
  totalCents: number;
  ticketIds: string[];
}

export interface BuyPanelProps {
  signedIn: boolean;
  selection: Seat[];
  hold: ActiveHold | null;
  holdSeats: Seat[];
  busy: 'hold' | 'checkout' | 'release' | false;
  notice: Notice | null;
  onHold(): void;
  /** Asks the server for the best `quantity` seats; undefined when the page cannot (no event open). */
  onBest?: ((quantity: number, together: boolean) => void) | undefined;
  onCheckout(): void;
  onRelease(): void;
  onUnselect(seat: Seat): void;
  onExpired(): void;
}

const seatText = (seat: Seat) => `${seat.section}, row ${seat.row}, seat ${seat.seat}`;

/** The buyer's side: what they chose, their hold with its countdown, and the messages for them. */
export function BuyPanel(props: BuyPanelProps) {
  const left = useCountdown(props.hold?.deadline, props.onExpired);
  const total = props.selection.reduce((sum, seat) => sum + seat.priceCents, 0);
  return (
    <aside class="panel" aria-label="Your seats">
      <NoticeBox notice={props.notice} />
      {props.hold ? (
        <section class="card hold" aria-labelledby="hold-title">
          <h2 id="hold-title">Held for you</h2>
          <p class={`countdown ${left <= 60 ? 'urgent' : ''}`} role="timer" aria-live="off">
            <span class="countdown-value">{clock(left)}</span> left to check out
          </p>
          <ul class="seat-list">
            {props.holdSeats.map((seat) => (
              <li key={seat.id}>
                {seatText(seat)} <span class="muted">{price(seat.priceCents)}</span>
              </li>
            ))}
          </ul>
          <p class="total">
            Total <strong>{price(props.hold.totalCents)}</strong>
          </p>
          <div class="actions">
            <button type="button" class="primary" disabled={props.busy !== false} onClick={props.onCheckout}>
              {props.busy === 'checkout' ? 'Checking out…' : 'Check out'}
            </button>
            <button type="button" disabled={props.busy !== false} onClick={props.onRelease}>
              {props.busy === 'release' ? 'Releasing…' : 'Release seats'}
            </button>
          </div>
        </section>
      ) : (
        <section class="card selection" aria-labelledby="selection-title">
          <h2 id="selection-title">Your selection</h2>
          {props.selection.length === 0 ? (
            <p class="muted">Choose available seats on the map (click, or Enter / Space).</p>
          ) : (
            <ul class="seat-list">
              {props.selection.map((seat) => (
                <li key={seat.id}>
                  {seatText(seat)} <span class="muted">{price(seat.priceCents)}</span>
                  <button
                    type="button"
                    class="link"
                    aria-label={`Remove ${seatText(seat)}`}
                    onClick={() => props.onUnselect(seat)}
                  >
                    remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          {props.selection.length > 0 && (
            <p class="total">
              Total <strong>{price(total)}</strong>
            </p>
          )}
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={props.selection.length === 0 || props.busy !== false || !props.signedIn}
              onClick={props.onHold}
            >
              {props.busy === 'hold'
                ? 'Holding…'
                : `Hold ${props.selection.length || ''} seat${props.selection.length === 1 ? '' : 's'}`}
            </button>
          </div>
          {!props.signedIn && <p class="muted">Sign in to hold seats.</p>}
          {props.onBest && props.signedIn && <BestAvailable busy={props.busy !== false} onBest={props.onBest} />}
        </section>
      )}
    </aside>
  );
}

function NoticeBox(props: { notice: Notice | null }) {
  const { notice } = props;
  // Both regions stay in the page so screen readers hear each new message.
  return (
    <>
      <div class="notice error" role="alert" hidden={notice?.kind !== 'error'}>
        {notice?.kind === 'error' ? notice.text : ''}
      </div>
      <div class={`notice ${notice?.kind ?? ''}`} role="status" hidden={!notice || notice.kind === 'error'}>
        {notice && notice.kind !== 'error' ? notice.text : ''}
      </div>
    </>
  );
}

/**
 * "Best available": the server picks the seats (its documented rule: sections in laid-out order, front
 * rows first, nearest the middle) and holds them, like a selection held.
 */
function BestAvailable(props: { busy: boolean; onBest(quantity: number, together: boolean): void }) {
  const [quantity, setQuantity] = useState(2);
  const [together, setTogether] = useState(true);
  return (
    <form
      class="best"
      aria-label="Best available"
      onSubmit={(event) => {
        event.preventDefault();
        props.onBest(quantity, together);
      }}
    >
      <h3>Or let us choose</h3>
      <label>
        Seats{' '}
        <select value={quantity} onChange={(event) => setQuantity(Number(event.currentTarget.value))}>
          {Array.from({ length: 10 }, (_, i) => i + 1).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        <input type="checkbox" checked={together} onChange={(event) => setTogether(event.currentTarget.checked)} /> side
        by side
      </label>
      <div class="actions">
        <button type="submit" disabled={props.busy}>
          Hold the best {quantity === 1 ? 'seat' : `${quantity} seats`}
        </button>
      </div>
    </form>
  );
}
