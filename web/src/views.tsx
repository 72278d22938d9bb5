import { useEffect, useState } from 'preact/hooks';
import { price, when } from './messages.js';
import type { Counts, EventSummary, Seat } from './operations.js';
import { demoSignInOffered, type Session } from './session.js';

/** A message for the buyer: errors are announced at once, the rest politely. */
export interface Notice {
  kind: 'error' | 'info' | 'success';
  text: string;
}

export function SignIn(props: {
  session: Session | null;
  onDemo(): void;
  onToken(token: string): void;
  onSignOut(): void;
}) {
  const [token, setToken] = useState('');
  if (props.session) {
    return (
      <div class="sign-in">
        <span class="who">
          Signed in as <strong>{props.session.customerId}</strong>
        </span>
        <button type="button" class="link" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <div class="sign-in">
      {demoSignInOffered && (
        <button type="button" class="primary" onClick={props.onDemo}>
          Sign in as a demo customer
        </button>
      )}
      <form
        class="token-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) props.onToken(token.trim());
        }}
      >
        <label for="token">{demoSignInOffered ? 'or paste a token' : 'Paste your token to buy'}</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          placeholder="eyJhbGciOi…"
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
        />
        <button type="submit">Use token</button>
      </form>
    </div>
  );
}

export function EventList(props: {
  events: EventSummary[];
  current: string | undefined;
  /** The live counts of the current event, fresher than the list's. */
  liveCounts: Counts | undefined;
  onPick(id: string): void;
}) {
  return (
    <nav class="events" aria-label="Events">
      <h2>Events</h2>
      <ul>
        {props.events.map((event) => {
          const counts = (event.id === props.current && props.liveCounts) || event.availability;
          return (
            <li key={event.id}>
              <button
                type="button"
                class="event-card"
                aria-current={event.id === props.current ? 'true' : undefined}
                onClick={() => props.onPick(event.id)}
              >
                <span class="event-name">{event.name}</span>
                <span class="event-meta">
                  {event.venue} · {when(event.startsAt)}
                </span>
                <span class="event-meta">
                  {counts.available.toLocaleString()} of {counts.total.toLocaleString()} left
                  {event.onSale ? '' : ' · not on sale'}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export function CountsBar(props: { counts: Counts | undefined; connection: string }) {
  const { counts } = props;
  const live = props.connection === 'live';
  return (
    <div class="counts">
      <span class={`live ${live ? 'on' : 'off'}`} role="status">
        {live ? 'Live' : props.connection === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
      </span>
      {counts && (
        <>
          <span>
            <strong>{counts.available.toLocaleString()}</strong> available
          </span>
          <span>
            <strong>{counts.held.toLocaleString()}</strong> held
          </span>
          <span>
            <strong>{counts.sold.toLocaleString()}</strong> sold
          </span>
          <span class="muted">of {counts.total.toLocaleString()}</span>
        </>
      )}
    </div>
  );
}

export function Legend() {
  const items: Array<[string, string]> = [
    ['available', 'Available'],
    ['selected', 'Your selection'],
    ['mine-held', 'Held for you'],
    ['mine-sold', 'Yours'],
    ['held', 'Held by others'],
    ['sold', 'Sold'],
  ];
  return (
    <ul class="legend" aria-label="Legend">
      {items.map(([look, text]) => (
        <li key={look}>
          <span class={`swatch seat ${look}`} aria-hidden="true" />
          {text}
        </li>
      ))}
    </ul>
  );
}

/** The seat under the pointer or the keyboard focus, in words. */
export function PointedSeat(props: { seat: Seat | undefined; state: string }) {
  const { seat } = props;
  if (!seat) return <p class="pointed muted">Point at a seat, or tab into the map and use the arrow keys.</p>;
  return (
    <p class="pointed">
      <strong>{seat.section}</strong> · row {seat.row} · seat {seat.seat} · {price(seat.priceCents)} · {props.state}
    </p>
  );
}

/** Seconds left of a hold, counted down from the server's answer (not from this device's clock). */
export function useCountdown(deadline: number | undefined, onZero: () => void): number {
  const [now, setNow] = useState(performance.now());
  useEffect(() => {
    if (deadline === undefined) return;
    const timer = setInterval(() => setNow(performance.now()), 250);
    return () => clearInterval(timer);
  }, [deadline]);
  const left = deadline === undefined ? 0 : Math.max(0, Math.ceil((deadline - now) / 1000));
  useEffect(() => {
    if (deadline !== undefined && left === 0) onZero();
  }, [deadline, left === 0]);
  return left;
}

export const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
