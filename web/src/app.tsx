import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type ActiveHold, BuyPanel } from './buy-panel.js';
import { newKey, RequestError, request } from './graphql.js';
import { describeError, describeFailure, price, REASON_TEXT, when } from './messages.js';
import {
  BEST,
  type BestData,
  CHECKOUT,
  type CheckoutData,
  type Counts,
  EVENTS,
  type EventSummary,
  type EventsData,
  HOLD,
  HOLD_STATE,
  type HoldData,
  type HoldStateData,
  ME,
  type MeData,
  RELEASE,
  type ReleaseData,
  type Seat,
} from './operations.js';
import type { Mark, SeatGrid } from './seat-grid.js';
import { SeatMapView } from './seat-map-view.js';
import { demoSignIn, type Session, savedSession, saveSession, sessionFromToken } from './session.js';
import { CountsBar, EventList, Legend, type Notice, PointedSeat, SignIn } from './views.js';

/** Most seats one hold may have (the API's limit). */
const MAX_SEATS = 10;

const holdFrom = (hold: {
  id: string;
  expiresInSeconds: number;
  totalCents: number;
  tickets: Array<{ id: string }>;
}) => ({
  id: hold.id,
  deadline: performance.now() + hold.expiresInSeconds * 1000,
  totalCents: hold.totalCents,
  ticketIds: hold.tickets.map((ticket) => ticket.id),
});

/** The page: events, the live seat map of one, and the buyer's selection, hold and purchase. */
export function App() {
  const [session, setSession] = useState<Session | null>(savedSession);
  const [events, setEvents] = useState<EventSummary[]>([]);
  const [eventId, setEventId] = useState(() => new URLSearchParams(location.search).get('event') ?? undefined);
  const [event, setEvent] = useState<EventSummary>();
  const [counts, setCounts] = useState<Counts>();
  const [connection, setConnection] = useState('connecting');
  const [selected, setSelected] = useState<string[]>([]);
  const [hold, setHold] = useState<ActiveHold | null>(null);
  const [bought, setBought] = useState<string[]>([]);
  /** The seats of the buyer's last successful mutation, as its answer gave them (the map applies them). */
  const [confirmed, setConfirmed] = useState<Seat[]>();
  const [notice, setNotice] = useState<Notice | null>(null);
  const [pointed, setPointed] = useState<Seat>();
  const [busy, setBusy] = useState<'hold' | 'checkout' | 'release' | false>(false);
  const [mapVersion, setMapVersion] = useState(0);
  const grid = useRef<SeatGrid | null>(null);
  const state = useRef({ session, selected, hold });
  state.current = { session, selected, hold };

  const seatName = (id: string) => grid.current?.name(id) ?? 'A seat';
  const fail = (error: unknown) => {
    setNotice({ kind: 'error', text: describeError(error) });
    if (error instanceof RequestError && error.code === 'UNAUTHENTICATED') signIn(null);
  };
  const signIn = (next: Session | null) => {
    saveSession(next);
    setSession(next);
    if (!next) setHold(null);
  };

  useEffect(() => {
    request<EventsData>(EVENTS, {}, { retry: true }).then((data) => {
      const list = data.events.edges.map((edge) => edge.node);
      setEvents(list);
      setEventId((current) => current ?? list[0]?.id);
    }, fail);
  }, []);

  useEffect(() => {
    if (!eventId) return;
    const url = new URL(location.href);
    url.searchParams.set('event', eventId);
    history.replaceState(null, '', url);
    setSelected([]);
    setHold(null);
    setConfirmed(undefined);
    setEvent(undefined);
    setCounts(undefined);
  }, [eventId]);

  // A hold made earlier (another tab, before a reload) comes back with its countdown.
  useEffect(() => {
    if (!session || !eventId) return;
    request<MeData>(ME, {}, { token: session.token, retry: true }).then((data) => {
      const active = data.me?.holds.edges.map((edge) => edge.node).find((node) => node.event.id === eventId);
      if (active) setHold((current) => current ?? holdFrom(active));
    }, fail);
  }, [session?.token, eventId]);

  // After sleep, re-read the countdown: timers stall while a page sleeps (README: the countdown).
  useEffect(() => {
    const wake = () => {
      const { hold: current, session: who } = state.current;
      if (document.visibilityState !== 'visible' || !current || !who) return;
      request<HoldStateData>(HOLD_STATE, { id: current.id }, { token: who.token, retry: true }).then((data) => {
        if (data.node?.status === 'ACTIVE')
          setHold({ ...current, deadline: performance.now() + data.node.expiresInSeconds * 1000 });
        else expire();
      }, fail);
    };
    document.addEventListener('visibilitychange', wake);
    return () => document.removeEventListener('visibilitychange', wake);
  }, []);

  const marks = useMemo(() => {
    const next = new Map<string, Mark>();
    for (const id of bought) next.set(id, 'mine-sold');
    for (const id of hold?.ticketIds ?? []) next.set(id, 'mine-held');
    for (const id of selected) next.set(id, 'selected');
    return next;
  }, [selected, hold, bought]);

  const toggle = (seat: Seat) => {
    const { selected: chosen, hold: current } = state.current;
    if (chosen.includes(seat.id)) return setSelected(chosen.filter((id) => id !== seat.id));
    if (seat.status !== 'AVAILABLE') {
      const mine = marks.get(seat.id);
      const why =
        mine === 'mine-held'
          ? 'is held for you'
          : mine === 'mine-sold'
            ? 'is yours'
            : REASON_TEXT[seat.status === 'SOLD' ? 'SOLD' : 'HELD'];
      return setNotice({ kind: 'info', text: `${seatName(seat.id)} ${why}.` });
    }
    if (current)
      return setNotice({ kind: 'info', text: 'Check out or release the seats you hold before choosing more.' });
    if (chosen.length >= MAX_SEATS)
      return setNotice({ kind: 'info', text: `You can hold up to ${MAX_SEATS} seats at a time.` });
    setSelected([...chosen, seat.id]);
  };

  // Seats chosen but taken by someone else meanwhile leave the selection, with the reason.
  const onChange = (seats: Seat[]) => {
    const taken = seats.filter((seat) => seat.status !== 'AVAILABLE' && state.current.selected.includes(seat.id));
    if (taken.length > 0) {
      setSelected((chosen) => chosen.filter((id) => !taken.some((seat) => seat.id === id)));
      const reasons = taken.map(
        (seat) => `${seatName(seat.id)} ${REASON_TEXT[seat.status === 'SOLD' ? 'SOLD' : 'HELD']}`,
      );
      setNotice({ kind: 'error', text: `${reasons.join('; ')}. It is no longer in your selection.` });
    }
    setMapVersion((n) => n + 1);
  };

  const expire = () => {
    setHold(null);
    setNotice({ kind: 'error', text: 'Your hold ran out. The seats went back on sale and nothing was bought.' });
  };

  const holdSelected = async () => {
    const { session: who, selected: chosen } = state.current;
    if (!who || chosen.length === 0) return;
    setBusy('hold');
    try {
      const { holdSeats: result } = await request<HoldData>(
        HOLD,
        { ticketIds: chosen, key: newKey('hold') },
        { token: who.token, retry: true },
      );
      if (result.hold) {
        setHold(holdFrom(result.hold));
        setConfirmed(result.hold.tickets);
        setSelected([]);
        setNotice({
          kind: 'success',
          text: `Held ${result.hold.tickets.length} seats for you. Check out before the time runs out.`,
        });
      } else {
        const refused = new Set(result.tickets?.map((ticket) => ticket.ticketId));
        setSelected((current) => current.filter((id) => !refused.has(id)));
        setNotice({ kind: 'error', text: describeFailure(result, seatName) });
      }
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  };

  const holdBest = async (quantity: number, together: boolean) => {
    const { session: who } = state.current;
    if (!who || !eventId) return;
    setBusy('hold');
    try {
      const { holdBestAvailable: result } = await request<BestData>(
        BEST,
        { eventId, quantity, together, key: newKey('best') },
        { token: who.token, retry: true },
      );
      if (result.hold) {
        setHold(holdFrom(result.hold));
        setConfirmed(result.hold.tickets);
        setSelected([]);
        const names = result.hold.tickets.map((ticket) => seatName(ticket.id)).join('; ');
        setNotice({ kind: 'success', text: `Held the best ${result.hold.tickets.length} for you: ${names}.` });
      } else {
        setNotice({ kind: 'error', text: describeFailure(result, seatName) });
      }
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  };

  const checkout = async () => {
    const { session: who, hold: current } = state.current;
    if (!who || !current) return;
    setBusy('checkout');
    try {
      const { checkout: result } = await request<CheckoutData>(
        CHECKOUT,
        { holdId: current.id, key: newKey('pay') },
        { token: who.token, retry: true },
      );
      if (result.order) {
        setBought((ids) => [...ids, ...current.ticketIds]);
        setHold(null);
        setConfirmed(result.order.tickets);
        setNotice({
          kind: 'success',
          text: `Bought! ${result.order.tickets.length} seats for ${price(result.order.totalCents)}. Enjoy the show.`,
        });
      } else {
        if (result.__typename === 'HoldExpired') setHold(null);
        setNotice({ kind: 'error', text: describeFailure(result, seatName) });
      }
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  };

  const release = async () => {
    const { session: who, hold: current } = state.current;
    if (!who || !current) return;
    setBusy('release');
    try {
      const { releaseHold: result } = await request<ReleaseData>(
        RELEASE,
        { holdId: current.id },
        { token: who.token, retry: true },
      );
      setHold(null);
      if (result.hold) setConfirmed(result.hold.tickets);
      setNotice(
        result.hold
          ? { kind: 'info', text: 'Released: the seats are back on sale.' }
          : { kind: 'error', text: describeFailure(result, seatName) },
      );
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  };

  const seatsOf = (ids: string[]) => ids.map((id) => grid.current?.seat(id)).filter((seat): seat is Seat => !!seat);
  const shown = event ?? events.find((candidate) => candidate.id === eventId);
  return (
    <div class="page">
      <header class="top">
        <div class="brand">
          Flux-Order <span class="muted">seat map</span>
        </div>
        <SignIn
          session={session}
          onDemo={() => demoSignIn().then(signIn, fail)}
          onToken={(token) => sessionFromToken(token).then(signIn, fail)}
          onSignOut={() => signIn(null)}
        />
      </header>
      <div class="layout">
        <EventList events={events} current={eventId} liveCounts={counts} onPick={setEventId} />
        <main class="stage-area" data-map-version={mapVersion}>
          {shown && (
            <div class="event-head">
              <h1>{shown.name}</h1>
              <p class="muted">
                {shown.venue} · {when(shown.startsAt)}
                {shown.onSale ? '' : shown.saleOpensAt ? ` · sale opens ${when(shown.saleOpensAt)}` : ' · not on sale'}
              </p>
              <CountsBar counts={counts ?? shown.availability} connection={connection} />
            </div>
          )}
          <Legend />
          <PointedSeat
            seat={pointed && grid.current?.seat(pointed.id)}
            state={pointed ? (grid.current?.describe(pointed.id) ?? '') : ''}
          />
          {eventId && (
            <SeatMapView
              key={eventId}
              eventId={eventId}
              eventName={shown?.name ?? 'the event'}
              marks={marks}
              confirmed={confirmed}
              gridRef={grid}
              onActivate={toggle}
              onPoint={setPointed}
              onSeats={(_seats, loaded) => setEvent(loaded)}
              onLoaded={() => setMapVersion((n) => n + 1)}
              onChange={onChange}
              onCounts={setCounts}
              onConnection={setConnection}
              onError={fail}
            />
          )}
        </main>
        <BuyPanel
          signedIn={!!session}
          selection={seatsOf(selected)}
          hold={hold}
          holdSeats={seatsOf(hold?.ticketIds ?? [])}
          busy={busy}
          notice={notice}
          onHold={holdSelected}
          onBest={eventId ? holdBest : undefined}
          onCheckout={checkout}
          onRelease={release}
          onUnselect={(seat) => setSelected((ids) => ids.filter((id) => id !== seat.id))}
          onExpired={expire}
        />
      </div>
    </div>
  );
}
