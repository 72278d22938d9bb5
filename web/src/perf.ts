/**
 * Timings the page leaves in the browser's performance timeline, for the benchmark and for anyone
 * with DevTools open: `seat-map:loaded` (subscribing to the whole map built in the DOM),
 * `seat-map:first-render` (the same, to the next painted frame), `seat-map:draw` (building the seats'
 * DOM alone), `seat-map:update` (a live message
 * applied to the DOM) and `seat-map:update-frame` (that message to the next painted frame). Each
 * measure's `detail` says how many seats it covered.
 */
export function measure(name: string, start: number, seats: number): void {
  performance.measure(name, { start, end: performance.now(), detail: { seats } });
}

/** Measures from `start` to just after the next frame is painted. */
export function measureToNextFrame(name: string, start: number, seats: number): void {
  requestAnimationFrame(() => {
    // A message posted from a frame callback runs after that frame's style, layout and paint.
    const channel = new MessageChannel();
    channel.port1.onmessage = () => measure(name, start, seats);
    channel.port2.postMessage(null);
  });
}
