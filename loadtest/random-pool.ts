/**
 * The numbers 0..n-1, from which one can be drawn at random, removed or put back, each in O(1): the
 * members are kept packed at the front of an array, and `slot` says where each one is, so a removal
 * swaps it with the last member (and putting back, with the first one out).
 */
export class RandomPool {
  private readonly members: Int32Array;
  private readonly slot: Int32Array;
  private left: number;

  constructor(n: number) {
    this.members = Int32Array.from({ length: n }, (_, i) => i);
    this.slot = Int32Array.from({ length: n }, (_, i) => i);
    this.left = n;
  }

  /** How many are still in the pool. */
  get size(): number {
    return this.left;
  }

  /** A member drawn uniformly with `random`, or -1 when the pool is empty. */
  draw(random: () => number): number {
    return this.left === 0 ? -1 : (this.members[Math.floor(random() * this.left)] ?? -1);
  }

  /** Takes `member` out; a member already out (or never in) is ignored. */
  remove(member: number): void {
    const at = this.slot[member] ?? -1;
    if (at < 0 || at >= this.left) return;
    const last = this.members[this.left - 1] ?? member;
    this.members[at] = last;
    this.slot[last] = at;
    this.members[this.left - 1] = member;
    this.slot[member] = this.left - 1;
    this.left--;
  }

  /** Is `member` in the pool? */
  has(member: number): boolean {
    const at = this.slot[member] ?? -1;
    return at >= 0 && at < this.left;
  }

  /** Puts `member` (one of 0..n-1) back; a member already in is ignored. */
  add(member: number): void {
    const at = this.slot[member] ?? -1;
    if (at < this.left || at >= this.members.length) return;
    const first = this.members[this.left] ?? member;
    this.members[at] = first;
    this.slot[first] = at;
    this.members[this.left] = member;
    this.slot[member] = this.left;
    this.left++;
  }
}
