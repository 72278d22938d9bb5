import { useEffect, useRef } from 'preact/hooks';
import { type SeatMapHandlers, type SeatMapWatch, watchSeatMap } from './live-seat-map.js';
import type { Seat } from './operations.js';
import { type Mark, SeatGrid } from './seat-grid.js';

export interface SeatMapViewProps extends SeatMapHandlers {
  eventId: string;
  eventName: string;
  marks: Map<string, Mark>;
  /**
   * Seats as the buyer's last successful mutation answered them: applied by the version rule once the
   * marks of the same render are in, so they show as the buyer's at once. A new array applies again.
   */
  confirmed?: readonly Seat[] | undefined;
  onActivate(seat: Seat): void;
  onPoint(seat: Seat): void;
  /** Receives the grid, so the page can name seats and read their state. */
  gridRef: { current: SeatGrid | null };
}

/**
 * The seat map of one event, live: a {@link SeatGrid} that Preact mounts once and never re-renders,
 * fed by {@link watchSeatMap}. Handlers are read through a ref, so a new closure on each render of the
 * page does not restart the subscription.
 */
export function SeatMapView(props: SeatMapViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  const watch = useRef<SeatMapWatch | null>(null);
  latest.current = props;

  useEffect(() => {
    const root = container.current;
    if (!root) return;
    const grid = new SeatGrid(root, {
      onActivate: (seat) => latest.current.onActivate(seat),
      onPoint: (seat) => latest.current.onPoint(seat),
    });
    props.gridRef.current = grid;
    root.dataset.state = 'loading';
    /** Time spent building the seats' DOM, over all pages. */
    let drawn = 0;
    const live = watchSeatMap(props.eventId, {
      onSeats: (seats, event) => {
        const drawing = performance.now();
        if (grid.all().length === 0) {
          root.classList.toggle('dense', event.availability.total > 1500);
          root.classList.toggle('very-dense', event.availability.total > 5000);
          grid.reset(latest.current.marks);
        }
        grid.append(seats);
        drawn += performance.now() - drawing;
        latest.current.onSeats(seats, event);
      },
      onLoaded: () => {
        performance.measure('seat-map:draw', { start: 0, duration: drawn, detail: { seats: grid.all().length } });
        root.dataset.state = 'ready';
        latest.current.onLoaded();
      },
      onChange: (seats) => {
        grid.update(seats);
        latest.current.onChange(seats);
      },
      onCounts: (counts) => latest.current.onCounts(counts),
      onConnection: (state) => {
        root.dataset.connection = state;
        latest.current.onConnection(state);
      },
      onError: (error) => latest.current.onError(error),
    });
    watch.current = live;
    return () => {
      live.stop();
      watch.current = null;
      grid.destroy();
      props.gridRef.current = null;
    };
  }, [props.eventId]);

  useEffect(() => {
    props.gridRef.current?.setMarks(props.marks);
  }, [props.marks]);

  // After the marks effect (effects run in order): a seat just held turns 'mine-held', never 'held'.
  useEffect(() => {
    if (props.confirmed) watch.current?.offer(props.confirmed);
  }, [props.confirmed]);

  return (
    <div class="map-scroll">
      <div class="stage-label" aria-hidden="true">
        Stage
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: sections of different widths side by side are no table; an ARIA grid is the pattern for a 2-D widget moved through with arrow keys. */}
      <div ref={container} class="seat-map" role="grid" aria-label={`Seats of ${props.eventName}`} />
    </div>
  );
}
