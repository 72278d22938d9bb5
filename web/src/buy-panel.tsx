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
          <BestAvailableSlot />
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
 * Where "best available" goes. The API does not offer it yet (another branch adds it): when it does,
 * this shows a "Best N seats" form whose answer is held like a selection. Until then it shows nothing,
 * rather than a client-side guess that the server would not stand behind.
 */
function BestAvailableSlot() {
  return null;
}
