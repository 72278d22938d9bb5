import calculateSlot from 'cluster-key-slot';

/** Some of a request's keys that share one cluster slot, with their places in the request. */
export interface SlotGroup {
  slot: number;
  /** Places in the request's list, in the request's order. */
  indexes: number[];
}

/**
 * Splits keys by Redis Cluster slot, groups in slot order and each group's keys in the given order:
 * a fixed order, whatever hash tag the keys carry. Keys of one slot may go to one script (a cluster
 * refuses a script whose keys span slots); groups on one node share a round trip under auto-pipelining.
 * On one server the same split holds, so both run the same code.
 */
export function groupBySlot(keys: readonly string[]): SlotGroup[] {
  const groups = new Map<number, number[]>();
  keys.forEach((key, index) => {
    const slot = calculateSlot(key);
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  });
  return [...groups].sort(([a], [b]) => a - b).map(([slot, indexes]) => ({ slot, indexes }));
}
