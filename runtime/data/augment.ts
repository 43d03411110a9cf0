// Augmentation of training batches, as the `train` block's `augment` declares it: torchvision's
// RandomCrop(size, padding) and RandomHorizontalFlip(p), drawn per sample from a batch's own
// random stream. Per-pixel targets (segmentation masks, an autoencoder's image) move with the
// image.
import type { AugmentStep } from "../api-types.js";
import { NetcError } from "../errors.js";
import type { Rng } from "../rng.js";
import type { BatchBuffers } from "./batches.js";
import { formatShape, sizeOf, type Dataset } from "./dataset.js";

/** `[RandomCrop(28, padding=4), RandomHorizontalFlip(p=0.5)]`, as a `train` block writes it. */
export function describeAugmentation(steps: readonly AugmentStep[]): string {
  const list = steps
    .map((s) =>
      s.name === "RandomCrop"
        ? `RandomCrop(${s.size[0] === s.size[1] ? s.size[0] : `(${s.size.join(", ")})`}, padding=${s.padding})`
        : `RandomHorizontalFlip(p=${s.p})`,
    )
    .join(", ");
  return `[${list}]`;
}

/** A tensor of a sample that moves with the image: `planes` maps of the image's height × width. */
interface Moving {
  /** Which of the batch's arrays: -1 the inputs, else the target's index. */
  index: number;
  planes: number;
}

export class Augmentation {
  readonly description: string;
  private readonly height: number;
  private readonly width: number;
  private readonly moving: Moving[];
  private readonly scratch: Float64Array;

  constructor(
    private readonly steps: readonly AugmentStep[],
    dataset: Dataset,
  ) {
    this.description = describeAugmentation(steps);
    const shape = dataset.inputShape;
    if (shape.length !== 3) {
      throw new NetcError(
        `augmentation takes images [channels, height, width], but the input is ${formatShape(shape)}`,
      );
    }
    const [channels, height, width] = shape as [number, number, number];
    this.height = height;
    this.width = width;
    for (const s of steps) {
      if (s.name === "RandomCrop" && (s.size[0] !== height || s.size[1] !== width)) {
        throw new NetcError(
          `RandomCrop's size ${formatShape(s.size)} is not the input's ${formatShape([height, width])}`,
        );
      }
    }
    this.moving = [{ index: -1, planes: channels }];
    dataset.targets.forEach((t, index) => {
      const spatial = t.shape.length >= 2 ? t.shape.slice(-2) : undefined;
      if (!spatial) return; // a class or a vector per sample: the image's content, not its place
      if (spatial[0] !== height || spatial[1] !== width) {
        throw new NetcError(
          `augmentation moves the image, but the target${t.output ? ` '${t.output}'` : ""} of shape ${formatShape(t.shape)} cannot follow it: only classes, vectors and maps of the image's size can`,
        );
      }
      this.moving.push({ index, planes: sizeOf(t.shape) / (height * width) });
    });
    this.scratch = new Float64Array(height * width);
  }

  /** Transforms the first `n` samples of the batch in place, drawing from `rng`. */
  apply(batch: BatchBuffers, n: number, rng: Rng): void {
    for (let k = 0; k < n; k++) {
      for (const step of this.steps) {
        if (step.name === "RandomCrop") {
          const span = 2 * step.padding + 1;
          const dy = rng.int(span) - step.padding;
          const dx = rng.int(span) - step.padding;
          if (dy !== 0 || dx !== 0)
            this.forEachPlane(batch, k, (plane) => this.shift(plane, dy, dx));
        } else if (rng.next() < step.p) {
          this.forEachPlane(batch, k, (plane) => this.flip(plane));
        }
      }
    }
  }

  private forEachPlane(
    batch: BatchBuffers,
    k: number,
    transform: (plane: Float32Array | Int32Array) => void,
  ): void {
    const area = this.height * this.width;
    for (const { index, planes } of this.moving) {
      const array = index < 0 ? batch.inputs : batch.targets[index]!;
      for (let c = 0; c < planes; c++) {
        const start = (k * planes + c) * area;
        transform(array.subarray(start, start + area));
      }
    }
  }

  /**
   * The crop of the padded plane at offset (p + dy, p + dx): pixel (y, x) takes (y + dy, x + dx),
   * or 0 (torchvision's fill) where that lies in the padding.
   */
  private shift(plane: Float32Array | Int32Array, dy: number, dx: number): void {
    const { height, width, scratch } = this;
    for (let i = 0; i < plane.length; i++) scratch[i] = plane[i]!;
    for (let y = 0; y < height; y++) {
      const sy = y + dy;
      for (let x = 0; x < width; x++) {
        const sx = x + dx;
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        plane[y * width + x] = inside ? scratch[sy * width + sx]! : 0;
      }
    }
  }

  private flip(plane: Float32Array | Int32Array): void {
    const { height, width } = this;
    for (let y = 0; y < height; y++) {
      const row = plane.subarray(y * width, (y + 1) * width);
      row.reverse();
    }
  }
}
