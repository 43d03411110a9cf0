// A generated single-lead ECG set for samples/ecg-cnn.net: windows [1, L] sampled at 100 Hz
// (2.56 s for L = 256), each a rhythm of one of six classes. Beats are sums of Gaussian waves
// (P, Q, R, S, T, as in McSharry et al.'s ECGSYN), with amplitude and timing jitter per wave,
// Gaussian noise and baseline wander, so that neither a level nor a single sample gives the
// class away: the network has to see the shape and the spacing of the beats.
import type { Rng } from "../rng.js";
import type { SyntheticSet } from "./dataset.js";

/** Samples per second. */
export const ecgRate = 100;
/** The default window: 256 samples, 2.56 s. */
export const ecgLength = 256;
/** The shortest window: a slow heart (35 beats per minute) still beats at least once in it. */
export const ecgMinLength = 256;

export const ecgClassNames = [
  "normal",
  "PVC",
  "AF",
  "bundle branch block",
  "bradycardia",
  "tachycardia",
] as const;

/**
 * One beat, its R peak at `time` seconds from the window's start (a beat may lie partly outside
 * the window). `sinus`: P, narrow QRS, T. `ventricular`: a premature beat without P, its QRS wide
 * and tall and its T the other way (PVC). `notched`: P, a wide QRS with two R peaks (RSR', bundle
 * branch block). `atrial`: a narrow QRS and T without P (atrial fibrillation).
 */
export interface Beat {
  time: number;
  kind: "sinus" | "ventricular" | "notched" | "atrial";
}

/** A Gaussian wave: `at` seconds from the R peak, peak `amplitude`, standard deviation `width` s. */
interface Wave {
  at: number;
  amplitude: number;
  width: number;
}

const qrs: Wave[] = [
  { at: -0.035, amplitude: -0.12, width: 0.01 },
  { at: 0, amplitude: 1, width: 0.012 },
  { at: 0.035, amplitude: -0.25, width: 0.012 },
];
const pWave: Wave = { at: -0.18, amplitude: 0.15, width: 0.025 };

/** The waves of a beat; T moves with the RR interval (`rr` s) as QT does (Bazett: ∝ √RR). */
function waves(kind: Beat["kind"], rr: number): Wave[] {
  const t = 0.28 * Math.sqrt(Math.min(rr, 1.5));
  switch (kind) {
    case "sinus":
      return [pWave, ...qrs, { at: t, amplitude: 0.3, width: 0.05 }];
    case "atrial":
      return [...qrs, { at: t, amplitude: 0.3, width: 0.05 }];
    case "notched":
      return [
        pWave,
        { at: -0.03, amplitude: -0.1, width: 0.01 },
        { at: 0, amplitude: 0.75, width: 0.016 },
        { at: 0.055, amplitude: 0.85, width: 0.016 },
        { at: 0.1, amplitude: -0.2, width: 0.02 },
        { at: t + 0.03, amplitude: -0.2, width: 0.06 },
      ];
    case "ventricular":
      return [
        { at: 0, amplitude: 1.4, width: 0.035 },
        { at: 0.08, amplitude: -0.4, width: 0.03 },
        { at: t + 0.05, amplitude: -0.45, width: 0.07 },
      ];
  }
}

/** Heart rates (beats per minute) of each class; AF's is its mean. */
const rates: Record<(typeof ecgClassNames)[number], [number, number]> = {
  normal: [60, 100],
  PVC: [60, 100],
  AF: [80, 150],
  "bundle branch block": [60, 100],
  bradycardia: [35, 55],
  tachycardia: [110, 170],
};

/** The beats of a window of `duration` s of class `label` (an index into ecgClassNames). */
function rhythm(label: number, duration: number, rng: Rng): Beat[] {
  const name = ecgClassNames[label]!;
  const rr = 60 / rng.uniform(...rates[name]);
  const kind: Beat["kind"] =
    name === "AF" ? "atrial" : name === "bundle branch block" ? "notched" : "sinus";
  // The ventricular beat comes early where the next sinus beat would reach `pvcAt`, and the
  // beat after it a whole interval late (the compensatory pause): it lands inside the window.
  let pvcAt = name === "PVC" ? rng.uniform(0.7, duration - 0.9) : Infinity;
  const beats: Beat[] = [];
  let t = -rr * rng.next();
  while (t < duration + 0.5) {
    beats.push({ time: t, kind });
    // AF's intervals are irregularly irregular; the others' vary by a few percent.
    const next = name === "AF" ? rr * rng.uniform(0.55, 1.45) : rr * (1 + 0.03 * rng.normal());
    if (t + next >= pvcAt) {
      beats.push({ time: t + next * rng.uniform(0.55, 0.7), kind: "ventricular" });
      t += 2 * next;
      pvcAt = Infinity;
    } else t += next;
  }
  return beats;
}

/**
 * `count` windows of `length` samples, their classes drawn uniformly, from `rng` (one stream
 * per set: train, test). Inputs [1, length] in millivolt-like units (R peaks near 1).
 */
export function ecgSet(count: number, rng: Rng, length = ecgLength): SyntheticSet<Beat> {
  const inputs = new Float32Array(count * length);
  const labels = new Int32Array(count);
  const scenes: Beat[][] = [];
  const duration = length / ecgRate;
  for (let n = 0; n < count; n++) {
    const label = rng.int(ecgClassNames.length);
    labels[n] = label;
    const beats = rhythm(label, duration, rng);
    scenes.push(beats);
    const signal = inputs.subarray(n * length, (n + 1) * length);
    const gain = rng.uniform(0.6, 1.4);
    const stretch = rng.uniform(0.85, 1.2);
    beats.forEach((beat, i) => {
      const rr = (beats[i + 1]?.time ?? beat.time + 0.8) - beat.time;
      for (const w of waves(beat.kind, rr)) {
        const at = beat.time + w.at + 0.006 * rng.normal();
        const amplitude = gain * w.amplitude * (1 + 0.1 * rng.normal());
        const width = w.width * stretch;
        // Only the samples within four widths: the rest adds less than float32 resolves.
        const from = Math.max(0, Math.ceil((at - 4 * width) * ecgRate));
        const to = Math.min(length - 1, Math.floor((at + 4 * width) * ecgRate));
        for (let s = from; s <= to; s++) {
          signal[s] += amplitude * Math.exp(-(((s / ecgRate - at) / width) ** 2) / 2);
        }
      }
    });
    const noise = rng.uniform(0.02, 0.1);
    const [wander, wanderHz, phase] = [rng.uniform(0, 0.4), rng.uniform(0.1, 0.5), rng.next()];
    // AF's fibrillatory waves: a small fast oscillation in place of P waves.
    const af = ecgClassNames[label] === "AF";
    const [flutter, flutterHz] = af ? [rng.uniform(0.03, 0.08), rng.uniform(4, 8)] : [0, 0];
    const flutterPhase = rng.next();
    for (let s = 0; s < length; s++) {
      const time = s / ecgRate;
      signal[s] +=
        wander * Math.sin(2 * Math.PI * (wanderHz * time + phase)) +
        flutter * Math.sin(2 * Math.PI * (flutterHz * time + flutterPhase)) +
        noise * rng.normal();
    }
  }
  const target = {
    data: labels,
    shape: [],
    classes: ecgClassNames.length,
    classNames: [...ecgClassNames],
  };
  return { dataset: { inputs, inputShape: [1, length], count, targets: [target] }, scenes };
}
