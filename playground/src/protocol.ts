// The messages between the page and the training worker (train-worker.ts).

/** A tensor sent for drawing: its values and shape, batch left out. */
export interface Picture {
  shape: number[];
  data: Float32Array;
}

/** What the page asks of the training worker. */
export type ToTrainer =
  | { type: "compile"; source: string; threads: number }
  /**
   * What the user dropped, read as `netc train --data` reads it (docs/data.md): files by path (a
   * folder's files as `folder/sub/name`), a .zip unpacked in the worker; none: the built-in data.
   * `labels`: the CSV's target columns (`--label`); none: the last column.
   */
  | { type: "files"; files: { name: string; bytes: Uint8Array }[]; labels: string[] }
  | { type: "start" }
  | { type: "pause" }
  | { type: "stop" }
  /** Look inside with this test image and the feature maps of this node (a convolution). */
  | { type: "inspect"; image: number; node: number | undefined }
  | { type: "download"; what: "weights" | "module" | "onnx" };

export interface ModelInfo {
  name: string;
  task: string;
  data: string;
  batch: number;
  epochs: number;
  threads: number;
  optimizer: string;
  /** The convolutions whose feature maps can be shown: node id and label. */
  convolutions: { node: number; name: string }[];
  testCount: number;
  classNames: readonly string[] | undefined;
}

export interface EpochReport {
  epoch: number;
  testLoss: number;
  testAccuracy: number | undefined;
  /** Rows true classes, columns predicted ones. */
  confusion: number[][] | undefined;
}

/** What the worker tells the page. */
export type FromTrainer =
  | { type: "compiled"; info: ModelInfo }
  | { type: "error"; message: string }
  | { type: "status"; text: string }
  /** Each step's loss since the last message, and the running training accuracy. */
  | {
      type: "steps";
      first: number;
      losses: number[];
      accuracy: number | undefined;
      samplesPerSecond: number;
    }
  | { type: "epoch"; report: EpochReport }
  | { type: "state"; running: boolean; paused: boolean }
  | {
      type: "inside";
      filters: Picture | undefined;
      image: Picture;
      maps: Picture | undefined;
      /** Segmentation: the predicted class per pixel. */
      mask: Picture | undefined;
      /** Detection: boxes in pixels [x0, y0, width, height] with their objectness. */
      boxes: { x: number; y: number; width: number; height: number; score: number }[] | undefined;
    }
  | { type: "file"; name: string; bytes: Uint8Array };
