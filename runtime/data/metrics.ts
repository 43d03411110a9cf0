// Evaluation metrics, accumulated batch by batch: accuracy and confusion, pixel accuracy and IoU,
// objectness accuracy and box error, reconstruction error.

/**
 * The predicted class of each sample (or pixel) from scores laid out `[count, classes, spatial]`
 * (`spatial` 1 for a vector of class scores, H * W for a map), written into `into[0 .. count *
 * spatial)`. Ties go to the lower class.
 */
export function argmaxClasses(
  scores: Float32Array | Float64Array,
  count: number,
  classes: number,
  spatial: number,
  into: Int32Array,
): Int32Array {
  for (let n = 0; n < count; n++) {
    const base = n * classes * spatial;
    for (let s = 0; s < spatial; s++) {
      let best = 0;
      let bestScore = scores[base + s]!;
      for (let c = 1; c < classes; c++) {
        const score = scores[base + c * spatial + s]!;
        if (score > bestScore) {
          best = c;
          bestScore = score;
        }
      }
      into[n * spatial + s] = best;
    }
  }
  return into;
}

/** Rows are true classes, columns predicted ones; covers both classification and segmentation. */
export class ConfusionMatrix {
  /** `counts[truth * classes + predicted]`. */
  readonly counts: Float64Array;

  /**
   * `ignore`: the label that counts for nothing (the criterion's `ignore=`): its samples or pixels
   * are left out of every count, as torchmetrics' `ignore_index`.
   */
  constructor(
    readonly classes: number,
    readonly ignore?: number,
  ) {
    this.counts = new Float64Array(classes * classes);
  }

  /** Adds the first `n` predictions (class or pixel) against their labels. */
  add(predicted: ArrayLike<number>, labels: ArrayLike<number>, n: number): void {
    for (let i = 0; i < n; i++) {
      const label = labels[i]!;
      if (label !== this.ignore) this.counts[label * this.classes + predicted[i]!]! += 1;
    }
  }

  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** The fraction right: accuracy for classes, pixel accuracy for segmentation. */
  accuracy(): number {
    let right = 0;
    for (let c = 0; c < this.classes; c++) right += this.counts[c * this.classes + c]!;
    return right / this.total;
  }

  /** Intersection over union of one class; NaN when it appears in neither truth nor prediction. */
  iou(c: number): number {
    const k = this.classes;
    let truth = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      truth += this.counts[c * k + j]!;
      predicted += this.counts[j * k + c]!;
    }
    const both = this.counts[c * k + c]!;
    return both / (truth + predicted - both);
  }

  /** The mean IoU over the classes that appear (in truth or prediction). */
  meanIoU(): number {
    let sum = 0;
    let n = 0;
    for (let c = 0; c < this.classes; c++) {
      const iou = this.iou(c);
      if (!Number.isNaN(iou)) {
        sum += iou;
        n++;
      }
    }
    return sum / n;
  }

  /** The matrix as rows, for printing. */
  rows(): number[][] {
    const k = this.classes;
    return Array.from({ length: k }, (_, r) => Array.from(this.counts.subarray(r * k, r * k + k)));
  }
}

/**
 * The detector's metrics over `[count, 1, cells]` objectness and `[count, 4, cells]` boxes:
 * objectness right at a threshold, and the mean absolute error of the four box numbers in the
 * cells that hold an object (elsewhere the box output is not trained).
 */
export class DetectionMetrics {
  private rightCells = 0;
  private cells = 0;
  private boxL1 = 0;
  private boxValues = 0;

  constructor(
    readonly cellsPerSample: number,
    readonly threshold = 0.5,
  ) {}

  add(
    boxes: Float32Array | Float64Array,
    objectness: Float32Array | Float64Array,
    targetBoxes: Float32Array,
    targetObjectness: Float32Array,
    count: number,
  ): void {
    const cells = this.cellsPerSample;
    for (let n = 0; n < count; n++) {
      for (let s = 0; s < cells; s++) {
        const i = n * cells + s;
        const object = targetObjectness[i]! >= 0.5;
        if (objectness[i]! >= this.threshold === object) this.rightCells++;
        if (!object) continue;
        for (let b = 0; b < 4; b++) {
          const j = (n * 4 + b) * cells + s;
          this.boxL1 += Math.abs(boxes[j]! - targetBoxes[j]!);
        }
        this.boxValues += 4;
      }
    }
    this.cells += count * cells;
  }

  objectnessAccuracy(): number {
    return this.rightCells / this.cells;
  }

  /** Mean L1 per box number, in the target's units (cell-relative offsets, image-relative sizes). */
  boxError(): number {
    return this.boxL1 / this.boxValues;
  }
}

/** Mean squared error between outputs and targets of the same layout (the autoencoder's). */
export class ReconstructionError {
  private sum = 0;
  private n = 0;

  /** Adds the first `length` elements. */
  add(output: Float32Array | Float64Array, target: Float32Array, length: number): void {
    for (let i = 0; i < length; i++) {
      const d = output[i]! - target[i]!;
      this.sum += d * d;
    }
    this.n += length;
  }

  mean(): number {
    return this.sum / this.n;
  }
}
