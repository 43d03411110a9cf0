// A generated detection set for samples/tiny-detector.net: colored boxes on noise, images
// [3, 64, 64], targets `boxes` [4, 8, 8] and `objectness` [1, 8, 8] named after its outputs.
import type { Rng } from "../rng.js";
import type { Dataset, SyntheticSet } from "./dataset.js";

export const detectionSize = 64;
/** The detector's grid: 8 x 8 cells of 8 x 8 pixels. */
export const detectionGrid = 8;
const cellSize = detectionSize / detectionGrid;

/** Pixels `x0 <= x < x0 + width`, `y0 <= y < y0 + height`, in one color. */
export interface Box {
  x0: number;
  y0: number;
  width: number;
  height: number;
  color: [number, number, number];
}

/** The grid cell holding a box's centre, which is the cell responsible for it. */
export function centreCell(box: Box): { row: number; col: number } {
  return {
    row: Math.floor((box.y0 + box.height / 2) / cellSize),
    col: Math.floor((box.x0 + box.width / 2) / cellSize),
  };
}

function randomBox(rng: Rng): Box {
  const width = 8 + rng.int(17);
  const height = 8 + rng.int(17);
  const color: [number, number, number] = [rng.next(), rng.next(), rng.next()];
  // One bright channel at least: the background noise stays below 0.35 in every channel.
  color[rng.int(3)] = rng.uniform(0.75, 1);
  const x0 = rng.int(detectionSize - width + 1);
  const y0 = rng.int(detectionSize - height + 1);
  return { x0, y0, width, height, color };
}

/** One to three boxes whose centres fall in distinct cells: a cell predicts one box. */
function randomScene(rng: Rng): Box[] {
  const boxes: Box[] = [];
  const wanted = 1 + rng.int(3);
  while (boxes.length < wanted) {
    const box = randomBox(rng);
    const { row, col } = centreCell(box);
    const taken = boxes.some((b) => {
      const c = centreCell(b);
      return c.row === row && c.col === col;
    });
    if (!taken) boxes.push(box);
  }
  return boxes;
}

/**
 * `count` samples from `rng`. In the centre cell of each box, `boxes` holds the centre's offset
 * within the cell (x, then y, each in [0, 1)) and the box's width and height as fractions of the
 * image; `objectness` is 1 there. Every other cell is 0 in both.
 */
export function detectionSet(count: number, rng: Rng): SyntheticSet<Box> {
  const size = detectionSize;
  const plane = size * size;
  const cells = detectionGrid * detectionGrid;
  const inputs = new Float32Array(count * 3 * plane);
  const boxTargets = new Float32Array(count * 4 * cells);
  const objectness = new Float32Array(count * cells);
  const scenes: Box[][] = [];
  for (let n = 0; n < count; n++) {
    const boxes = randomScene(rng);
    scenes.push(boxes);
    const image = inputs.subarray(n * 3 * plane, (n + 1) * 3 * plane);
    for (let i = 0; i < image.length; i++) image[i] = rng.uniform(0, 0.35);
    for (const box of boxes) {
      for (let c = 0; c < 3; c++) {
        for (let y = box.y0; y < box.y0 + box.height; y++) {
          for (let x = box.x0; x < box.x0 + box.width; x++) {
            const value = box.color[c]! + rng.uniform(-0.08, 0.08);
            image[c * plane + y * size + x] = Math.min(1, Math.max(0, value));
          }
        }
      }
      const { row, col } = centreCell(box);
      const cell = row * detectionGrid + col;
      const at = (channel: number) => (n * 4 + channel) * cells + cell;
      boxTargets[at(0)] = (box.x0 + box.width / 2) / cellSize - col;
      boxTargets[at(1)] = (box.y0 + box.height / 2) / cellSize - row;
      boxTargets[at(2)] = box.width / size;
      boxTargets[at(3)] = box.height / size;
      objectness[n * cells + cell] = 1;
    }
  }
  const grid = [detectionGrid, detectionGrid];
  const dataset: Dataset = {
    inputs,
    inputShape: [3, size, size],
    count,
    targets: [
      { output: "boxes", data: boxTargets, shape: [4, ...grid] },
      { output: "objectness", data: objectness, shape: [1, ...grid] },
    ],
  };
  return { dataset, scenes };
}
