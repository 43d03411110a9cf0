// The measuring protocol of benchmarks.md, shared by every JS peer (torch_bench.py repeats it in
// Python): warm-up, then the median of repetitions that each run long enough, with a time cap so
// that peers taking seconds per step cannot stretch the run to hours.

export type Metric = "train" | "infer64" | "infer1";
export const metrics: Metric[] = ["train", "infer64", "infer1"];

export interface Protocol {
  quick: boolean;
  /** Warm-up steps (or batch-64 forward calls) before the repetitions... */
  warmup: number;
  /** ...and warm-up seconds, for V8 to move the hot WASM and JS code to its optimising tier. */
  warmupSeconds: number;
  reps: number;
  /** A repetition runs at least this many steps and this many seconds... */
  minSteps: number;
  minSeconds: number;
  /** ...but stops at this many seconds; its figure is then marked approximate. */
  maxSeconds: number;
  infer1Warmup: number;
  infer1Calls: number;
  /** A training step estimated slower than this (from 3× a forward call) is not run. */
  maxStepSeconds: number;
}

export const fullProtocol: Protocol = {
  quick: false,
  ...{ warmup: 10, warmupSeconds: 1, reps: 3, minSteps: 30, minSeconds: 3, maxSeconds: 10 },
  ...{ infer1Warmup: 20, infer1Calls: 250, maxStepSeconds: Infinity },
};

export const quickProtocol: Protocol = {
  quick: true,
  ...{ warmup: 2, warmupSeconds: 0.1, reps: 3, minSteps: 2, minSeconds: 0.03, maxSeconds: 0.12 },
  ...{ infer1Warmup: 5, infer1Calls: 30, maxStepSeconds: 1 },
};

/** A figure (samples/s, or ms for infer1), or why there is none ("cannot train"). */
export type Cell = { value: number; approx: boolean } | { note: string };

/** An error meaning the peer cannot do this at all, reported as its message, not as a failure. */
export class Unsupported extends Error {}

/** What a peer does on batch `i` of the data: any call may be async (onnxruntime). */
export interface Runner {
  train?: (i: number) => unknown;
  infer64: (i: number) => unknown;
  infer1: (i: number) => unknown;
}

const now = () => performance.now() / 1e3;

async function call(fn: (i: number) => unknown, i: number): Promise<void> {
  const result = fn(i);
  // Awaiting a plain value would add a microtask to every synchronous call.
  if (result instanceof Promise) await result;
}

/** Calls per second (median of the repetitions), and the seconds the first call took. */
export async function throughput(
  fn: (i: number) => unknown,
  p: Protocol,
): Promise<{ perSecond: number; approx: boolean; first: number }> {
  let i = 0;
  const start = now();
  await call(fn, i++);
  const first = now() - start;
  // Past the cap, one call is the whole measurement (a rough figure beats none): a second one,
  // without the first call's one-time costs, unless the first was far past the cap.
  if (first > p.maxSeconds) {
    if (first > 4 * p.maxSeconds) return { perSecond: 1 / first, approx: true, first };
    const begin = now();
    await call(fn, i++);
    return { perSecond: 1 / (now() - begin), approx: true, first };
  }
  while ((i < p.warmup || now() - start < p.warmupSeconds) && now() - start < p.maxSeconds)
    await call(fn, i++);
  const rates: number[] = [];
  let approx = false;
  for (let rep = 0; rep < p.reps; rep++) {
    const begin = now();
    let calls = 0;
    let elapsed = 0;
    do {
      await call(fn, i++);
      calls++;
      elapsed = now() - begin;
    } while ((calls < p.minSteps || elapsed < p.minSeconds) && elapsed < p.maxSeconds);
    if (calls < p.minSteps) approx = true;
    rates.push(calls / elapsed);
  }
  return { perSecond: median(rates), approx, first };
}

/** Median milliseconds per call. */
export async function latency(
  fn: (i: number) => unknown,
  p: Protocol,
): Promise<{ ms: number; approx: boolean }> {
  let i = 0;
  const start = now();
  while ((i < p.infer1Warmup || now() - start < p.warmupSeconds) && now() - start < p.maxSeconds)
    await call(fn, i++);
  const times: number[] = [];
  const begin = now();
  while (times.length < p.infer1Calls && now() - begin < 2 * p.maxSeconds) {
    const t = now();
    await call(fn, i++);
    times.push(now() - t);
  }
  return { ms: 1e3 * median(times), approx: times.length < p.infer1Calls };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The three metrics of one peer on one workload, at `batch` samples per step. */
export async function measure(
  runner: Runner,
  p: Protocol,
  batch: number,
  log: (metric: Metric, cell: Cell) => void,
): Promise<Record<Metric, Cell>> {
  const cells = {} as Record<Metric, Cell>;
  const attempt = async (metric: Metric, run: () => Promise<Cell>) => {
    try {
      cells[metric] = await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      cells[metric] = { note: error instanceof Unsupported ? message : `failed: ${message}` };
    }
    log(metric, cells[metric]);
  };
  await attempt("infer1", async () => {
    const { ms, approx } = await latency(runner.infer1, p);
    return { value: ms, approx };
  });
  let forwardSeconds = 0;
  await attempt("infer64", async () => {
    const { perSecond, approx, first } = await throughput(runner.infer64, p);
    forwardSeconds = Math.min(first, 1 / perSecond);
    return { value: batch * perSecond, approx };
  });
  const train = runner.train;
  await attempt("train", async () => {
    if (!train) return { note: "inference only" };
    if (3 * forwardSeconds > p.maxStepSeconds) return { note: "too slow for --quick" };
    const { perSecond, approx } = await throughput(train, p);
    return { value: batch * perSecond, approx };
  });
  return cells;
}
