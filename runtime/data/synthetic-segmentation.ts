// A generated segmentation set for samples/tiny-unet.net: bright rectangles and discs on noise,
// images [1, 32, 32] and a class per pixel [32, 32] (0 background, 1 shape), and for a criterion
// with an ignore index a void band along the shapes' edges (samples/dilated-segmentation.net).
import type { Rng } from "../rng.js";
import type { SyntheticSet } from "./dataset.js";

export const segmentationSize = 32;

/** Pixels `x0 <= x < x0 + width`, `y0 <= y < y0 + height`. */
export interface Rect {
  kind: "rect";
  x0: number;
  y0: number;
  width: number;
  height: number;
  level: number;
}

/** Pixels within `radius` of the centre pixel (cx, cy). */
export interface Disc {
  kind: "disc";
  cx: number;
  cy: number;
  radius: number;
  level: number;
}

export type Blob = Rect | Disc;

export function covers(blob: Blob, x: number, y: number): boolean {
  if (blob.kind === "rect") {
    return x >= blob.x0 && x < blob.x0 + blob.width && y >= blob.y0 && y < blob.y0 + blob.height;
  }
  return (x - blob.cx) ** 2 + (y - blob.cy) ** 2 <= blob.radius ** 2;
}

function randomBlob(rng: Rng): Blob {
  const size = segmentationSize;
  // Shapes are brighter than the background on average but their ranges overlap, so a pixel
  // alone does not decide its class: the network has to look at its neighbourhood.
  const level = rng.uniform(0.6, 0.95);
  if (rng.next() < 0.5) {
    const width = 5 + rng.int(10);
    const height = 5 + rng.int(10);
    return {
      kind: "rect",
      x0: rng.int(size - width + 1),
      y0: rng.int(size - height + 1),
      width,
      height,
      level,
    };
  }
  const radius = 3 + rng.int(5);
  const span = size - 2 * radius;
  return { kind: "disc", cx: radius + rng.int(span), cy: radius + rng.int(span), radius, level };
}

/** The shape seen at a pixel: the last one drawn, as when painting them in order. */
function topmost(blobs: readonly Blob[], x: number, y: number): Blob | undefined {
  for (let i = blobs.length - 1; i >= 0; i--) if (covers(blobs[i]!, x, y)) return blobs[i];
  return undefined;
}

/**
 * Marks as `label` every pixel whose class differs from one of its four neighbours': the band
 * along each edge between shape and background, where a hand-drawn mask is least sure (Pascal
 * VOC's void border). Both sides of an edge are marked, from the classes as they were.
 */
function markEdges(targets: Int32Array, offset: number, size: number, label: number): void {
  const classes = targets.slice(offset, offset + size * size);
  const at = (x: number, y: number) => classes[y * size + x]!;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const c = at(x, y);
      const edge =
        (x > 0 && at(x - 1, y) !== c) ||
        (x < size - 1 && at(x + 1, y) !== c) ||
        (y > 0 && at(x, y - 1) !== c) ||
        (y < size - 1 && at(x, y + 1) !== c);
      if (edge) targets[offset + y * size + x] = label;
    }
}

/**
 * `count` samples of one to three shapes each, drawn from `rng` (one stream per set: train, test).
 * With `voidLabel`, the pixels along the shapes' edges get that label instead of their class
 * (the criterion's ignore index); the images and the other pixels are the same either way.
 */
export function segmentationSet(count: number, rng: Rng, voidLabel?: number): SyntheticSet<Blob> {
  const size = segmentationSize;
  const pixels = size * size;
  const inputs = new Float32Array(count * pixels);
  const targets = new Int32Array(count * pixels);
  const scenes: Blob[][] = [];
  for (let n = 0; n < count; n++) {
    const blobs = Array.from({ length: 1 + rng.int(3) }, () => randomBlob(rng));
    scenes.push(blobs);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = n * pixels + y * size + x;
        const blob = topmost(blobs, x, y);
        const value = blob ? blob.level + rng.uniform(-0.15, 0.15) : rng.uniform(0, 0.5);
        inputs[i] = Math.min(1, Math.max(0, value));
        targets[i] = blob ? 1 : 0;
      }
    }
    if (voidLabel !== undefined) markEdges(targets, n * pixels, size, voidLabel);
  }
  const target = {
    data: targets,
    shape: [size, size],
    classes: 2,
    classNames: ["background", "shape"],
  };
  return { dataset: { inputs, inputShape: [1, size, size], count, targets: [target] }, scenes };
}
