/**
 * Latencies kept exactly, as a growable Float64Array sorted once at the end. A 60 s run at
 * 3,000/s is 180,000 samples (1.4 MB): cheap to keep, and its percentiles are exact rather than
 * bucketed, with no dependency.
 */
export class LatencyRecorder {
  private samples = new Float64Array(4096);
  private size = 0;
  private sorted = true;

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.size++] = ms;
    this.sorted = false;
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.size;
  }

  private view(): Float64Array {
    const view = this.samples.subarray(0, this.size);
    if (!this.sorted) {
      view.sort();
      this.sorted = true;
    }
    return view;
  }

  /** The latency below which `p` percent of samples fall (nearest rank); 0 when empty. */
  percentile(p: number): number {
    const view = this.view();
    if (view.length === 0) return 0;
    const rank = Math.min(view.length - 1, Math.max(0, Math.ceil((p / 100) * view.length) - 1));
    return view[rank] ?? 0;
  }

  /** p50/p95/p99/p99.9/max and the mean, rounded to 0.01 ms. */
  summary(): LatencySummary {
    const view = this.view();
    let total = 0;
    for (const ms of view) total += ms;
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      count: view.length,
      p50: round(this.percentile(50)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      p999: round(this.percentile(99.9)),
      max: round(view[view.length - 1] ?? 0),
      mean: round(view.length ? total / view.length : 0),
    };
  }

  /** [percentile, ms] points spaced evenly in log(1 / (1 - p)): what the chart draws. */
  curve(points = 60): Array<[number, number]> {
    if (this.size === 0) return [];
    const maxNines = Math.max(1, Math.log10(this.size));
    const curve: Array<[number, number]> = [];
    for (let i = 0; i <= points; i++) {
      const p = 100 * (1 - 10 ** (-(maxNines * i) / points));
      curve.push([p, this.percentile(p)]);
    }
    return curve;
  }
}

/** A latency distribution in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Latency by what the answer was: wins, rejections, and every answer (errors included). */
export interface LatencyByOutcome {
  wins: LatencySummary;
  rejects: LatencySummary;
  all: LatencySummary;
}

/** One recorder per outcome, for one way of measuring. */
export class OutcomeLatency {
  readonly wins = new LatencyRecorder();
  readonly rejects = new LatencyRecorder();
  readonly all = new LatencyRecorder();

  /** Records one answer's latency under its outcome (an error counts only in `all`). */
  record(kind: 'win' | 'reject' | 'error', ms: number): void {
    this.all.record(ms);
    if (kind === 'win') this.wins.record(ms);
    else if (kind === 'reject') this.rejects.record(ms);
  }

  /** The three summaries. */
  summary(): LatencyByOutcome {
    return { wins: this.wins.summary(), rejects: this.rejects.summary(), all: this.all.summary() };
  }
}
