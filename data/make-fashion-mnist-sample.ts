// Recreates data/fashion-mnist-sample from a full Fashion-MNIST (by default Debian's
// dataset-fashion-mnist): the first 400 images of each class from the training file and the
// first 100 of each class from the test file, in file order, as gzipped IDX.
//   npm run build && node dist/data/make-fashion-mnist-sample.js [SOURCE_DIR]
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IdxArray } from "../runtime/data/idx.js";
import { fashionMnistFiles, installedLocations } from "../runtime/node/fashion-mnist.js";
import { readIdxFile, writeIdxFile } from "../runtime/node/idx-file.js";

const perClassTrain = 400;
const perClassTest = 100;
const classes = 10;

/** The package's top directory, whether this runs from data/ or dist/data/. */
function top(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

/** The records of the first `perClass` images of each class, in file order. */
function select(labels: IdxArray, perClass: number): number[] {
  const taken = new Array<number>(classes).fill(0);
  const records: number[] = [];
  labels.data.forEach((label, record) => {
    if (taken[label]! < perClass) {
      taken[label]!++;
      records.push(record);
    }
  });
  if (taken.some((n) => n < perClass)) throw new Error(`fewer than ${perClass} of some class`);
  return records;
}

function subset(source: string, target: string, images: string, labels: string, perClass: number) {
  const imageArray = readIdxFile(join(source, `${images}.gz`));
  const labelArray = readIdxFile(join(source, `${labels}.gz`));
  const records = select(labelArray, perClass);
  const size = imageArray.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = new Uint8Array(records.length * size);
  records.forEach((r, i) => data.set(imageArray.data.subarray(r * size, (r + 1) * size), i * size));
  const dims = [records.length, ...imageArray.dims.slice(1)];
  writeIdxFile(join(target, `${images}.gz`), { dims, data });
  const labelData = Uint8Array.from(records, (r) => labelArray.data[r]!);
  writeIdxFile(join(target, `${labels}.gz`), { dims: [records.length], data: labelData });
}

const source =
  process.argv[2] ??
  installedLocations().find((dir) => existsSync(join(dir, `${fashionMnistFiles.trainImages}.gz`)));
if (source === undefined) {
  console.error(
    "no Fashion-MNIST found: apt-get install dataset-fashion-mnist or pass a directory",
  );
  process.exitCode = 1;
} else {
  const target = join(top(), "data", "fashion-mnist-sample");
  mkdirSync(target, { recursive: true });
  const { trainImages, trainLabels, testImages, testLabels } = fashionMnistFiles;
  subset(source, target, trainImages, trainLabels, perClassTrain);
  subset(source, target, testImages, testLabels, perClassTest);
  console.log(`wrote ${target} from ${source}`);
}
