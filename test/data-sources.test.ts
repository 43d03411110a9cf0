// The readers of users' data files: .npy/.npz against NumPy, PNG/JPEG against Pillow (what
// torchvision's ImageFolder decodes), resizing against PyTorch, CSV tables, named arrays as
// training sets, the held-out test split and the checks that refuse data a model cannot use.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { arraySets, type ArrayStore } from "../runtime/data/array-set.js";
import { checkDataset, type ModelExpectation } from "../runtime/data/check-dataset.js";
import { parseTable, tableSet } from "../runtime/data/csv.js";
import { loadTreeData, memoryTree } from "../runtime/data/file-tree.js";
import { toReconstruction, type Dataset } from "../runtime/data/dataset.js";
import {
  decodeImage,
  resizeBilinear,
  resizeNearest,
  toClasses,
  toPlanes,
} from "../runtime/data/image.js";
import { classTarget, indexNames, sortNames } from "../runtime/data/labels.js";
import { parseNpy, parseNpz, type NdArray } from "../runtime/data/npy.js";
import { holdOut } from "../runtime/data/split.js";
import { loadFashionMnist } from "../runtime/node/fashion-mnist.js";
import { loadUserData } from "../runtime/node/user-data.js";
import { jpg, npy, npz, png, writeTree } from "./helpers/data-files.js";
import { netcError } from "./helpers/netc-error.js";

const fixtures = new URL("fixtures/", import.meta.url);
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`data-files/${name}`, fixtures)));

interface Expected {
  npy: Record<string, { dtype: string; shape: number[]; values: unknown }>;
  images: Record<
    string,
    {
      mode: string;
      size: [number, number];
      L?: number[][];
      RGB?: number[][][];
      index?: number[][];
      samples?: number[][];
    }
  >;
  resize: {
    source: number[][][];
    classes: number[][];
    cases: { size: [number, number]; bilinear: number[][][]; nearest: number[][] }[];
  };
}
const expected = JSON.parse(readFileSync(new URL("data-files.json", fixtures), "utf8")) as Expected;

const flat = (values: unknown): unknown[] =>
  Array.isArray(values) ? values.flatMap(flat) : [values];

describe(".npy and .npz, as NumPy writes them", () => {
  test.each(["savez.npz", "savez-compressed.npz"])("%s: every dtype, shape and value", (file) => {
    const arrays = parseNpz(fixture(file), file);
    expect([...arrays.keys()].sort()).toEqual(Object.keys(expected.npy).sort());
    for (const [key, want] of Object.entries(expected.npy)) {
      const array = arrays.get(key)!();
      expect(array.shape, key).toEqual(want.shape);
      expect(array.name).toBe(`${key} in ${file}`);
      const values = flat(want.values);
      if (array.kind === "string") {
        expect(array.data, key).toEqual(values);
        continue;
      }
      expect(array.dtype, key).toBe(want.dtype.replace(/^bool$/, "bool"));
      // float32 values are exact in JSON's doubles; so are the integers and halves.
      expect(Array.from(array.data), key).toEqual(values);
    }
  });

  test("format versions 1, 2 and 3; big-endian floats", () => {
    for (const v of [1, 2, 3]) {
      const array = parseNpy(fixture(`version-${v}.npy`), `version-${v}.npy`);
      expect(array.shape).toEqual([2, 2]);
      expect(Array.from(array.data as Float32Array)).toEqual(
        flat(expected.npy["big_endian"]!.values),
      );
    }
  });

  test("what netc does not read is named: Fortran order, objects, complex, structured", () => {
    expect(netcError(() => parseNpy(fixture("fortran.npy"), "fortran.npy"))).toBe(
      "fortran.npy is in Fortran (column-major) order; save it in C order: np.save(path, np.ascontiguousarray(x))",
    );
    expect(netcError(() => parseNpy(fixture("objects.npy"), "objects.npy"))).toBe(
      "objects.npy holds dtype '|O' (Python objects, stored pickled); netc reads bool, (u)int8/16/32/64, float16/32/64 and strings (<U, |S)",
    );
    expect(netcError(() => parseNpy(fixture("complex.npy"), "complex.npy"))).toBe(
      "complex.npy holds dtype '<c8'; netc reads bool, (u)int8/16/32/64, float16/32/64 and strings (<U, |S)",
    );
    expect(netcError(() => parseNpy(fixture("structured.npy"), "structured.npy"))).toBe(
      "structured.npy holds a structured array (fields with names); netc reads plain arrays of bool, (u)int8/16/32/64, float16/32/64 and strings (<U, |S)",
    );
  });

  test("truncated, overlong and foreign files", () => {
    const bytes = npy("<f4", [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(netcError(() => parseNpy(bytes.subarray(0, bytes.length - 4), "x.npy"))).toBe(
      "x.npy is truncated: shape [2, 3] of <f4 needs 24 data bytes, the file has 20",
    );
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(netcError(() => parseNpy(longer, "x.npy"))).toBe(
      "x.npy has 2 bytes after its data (shape [2, 3] of <f4)",
    );
    expect(netcError(() => parseNpy(png(1, 1, 1, [0]), "x.npy"))).toBe(
      "x.npy is not a .npy file: it does not start with \\x93NUMPY",
    );
    expect(netcError(() => parseNpz(bytes, "d.npz"))).toMatch(
      /^d\.npz is not a readable \.npz \(zip\) file: /,
    );
    const int64 = npy("<i8", [1], [0]);
    new DataView(int64.buffer).setBigInt64(int64.length - 8, 2n ** 53n + 1n, true);
    expect(netcError(() => parseNpy(int64, "big.npy"))).toBe(
      "the value 9007199254740993 is too large to be held exactly (above 2^53)",
    );
  });

  test("the test helper writes what the reader reads: strings as <U", () => {
    const array = parseNpz(npz({ y: npy("<U", [3], ["b", "a", "ü"]) }), "t.npz").get("y")!();
    expect(array).toMatchObject({ kind: "string", shape: [3], data: ["b", "a", "ü"] });
  });
});

describe("images, as Pillow decodes them", () => {
  const pngs = Object.keys(expected.images).filter((n) => n.endsWith(".png") && n !== "grey16.png");

  test.each(pngs)(
    "%s: grey and RGB planes are Pillow's convert('L') and convert('RGB') / 255",
    (name) => {
      const want = expected.images[name]!;
      const image = decodeImage(fixture(name), name);
      expect([image.width, image.height]).toEqual(want.size);
      const [w, h] = want.size;
      const grey = toPlanes(image, 1);
      expect(Array.from(grey, (x) => Math.round(x * 255))).toEqual(flat(want.L));
      const rgb = toPlanes(image, 3);
      // Planes are [3, H, W]; Pillow's array is [H, W, 3].
      const planar = [0, 1, 2].flatMap((c) => want.RGB!.flatMap((row) => row.map((px) => px[c]!)));
      expect(Array.from(rgb, (x) => Math.round(x * 255))).toEqual(planar);
      expect(rgb.length).toBe(3 * w * h);
    },
  );

  /** The largest and the mean difference, in levels of 255, from Pillow's (libjpeg's) pixels. */
  function jpegDifference(name: string, channels: 1 | 3): { worst: number; mean: number } {
    const want = expected.images[name]!;
    const image = decodeImage(fixture(name), name);
    const pillow =
      channels === 1
        ? (flat(want.L) as number[])
        : [0, 1, 2].flatMap((c) => want.RGB!.flatMap((row) => row.map((px) => px[c]!)));
    const ours = Array.from(toPlanes(image, channels), (x) => Math.round(x * 255));
    const d = ours.map((x, i) => Math.abs(x - pillow[i]!));
    return { worst: Math.max(...d), mean: d.reduce((a, b) => a + b, 0) / d.length };
  }

  test.each(["grey.jpg", "rgb.jpg"])(
    "%s: within 2 levels of libjpeg's pixels (full-resolution colour)",
    (name) => {
      expect(jpegDifference(name, 3).worst).toBeLessThanOrEqual(2);
      expect(jpegDifference(name, 1).worst).toBeLessThanOrEqual(2);
    },
  );

  test("rgb-420.jpg: colour subsampled 2x2 is upsampled unlike libjpeg, a level or two apart", () => {
    // Measured: at most 8 levels, 1.6 on average, on a picture with detail at every pixel.
    const { worst, mean } = jpegDifference("rgb-420.jpg", 3);
    expect(worst).toBeLessThanOrEqual(8);
    expect(mean).toBeLessThanOrEqual(2);
  });

  test("16-bit grey is scaled by 1/65535; RGBA models get alpha, 1 where there is none", () => {
    const want = expected.images["grey16.png"]!;
    const grey = toPlanes(decodeImage(fixture("grey16.png"), "g"), 1);
    expect(Array.from(grey)).toEqual(
      flat(want.samples).map((v) => Math.fround((v as number) * (1 / 65535))),
    );
    const rgba = toPlanes(decodeImage(fixture("rgba.png"), "r"), 4);
    const alpha = Array.from(rgba.subarray(3 * 42), (x) => Math.round(x * 255));
    expect(new Set(alpha).size).toBeGreaterThan(1); // the fixture's alpha varies
    const opaque = toPlanes(decodeImage(fixture("rgb.png"), "r"), 4);
    expect(Array.from(opaque.subarray(3 * 42))).toEqual(new Array(42).fill(1));
  });

  test("masks: grey values and palette indices are classes; colour and JPEG masks are refused", () => {
    for (const name of ["grey.png", "palette.png", "palette-2bit.png", "bilevel.png"]) {
      const classes = toClasses(decodeImage(fixture(name), name), name);
      expect(Array.from(classes), name).toEqual(
        flat(expected.images[name]!.index).map((v) =>
          name === "bilevel.png" ? ((v as number) ? 1 : 0) : v,
        ),
      );
    }
    expect(netcError(() => toClasses(decodeImage(fixture("rgb.png"), "m/a.png"), "m/a.png"))).toBe(
      "m/a.png is a colour image; a mask must be a greyscale or palette PNG whose pixel value is the class index",
    );
    expect(netcError(() => toClasses(decodeImage(fixture("grey.jpg"), "m/a.jpg"), "m/a.jpg"))).toBe(
      "m/a.jpg is a JPEG mask; JPEG compression changes pixel values, so masks must be PNG (greyscale or palette)",
    );
  });

  test("corrupt, truncated and other formats name the file", () => {
    const bytes = fixture("rgb.png");
    expect(netcError(() => decodeImage(bytes.subarray(0, 60), "cat/1.png"))).toMatch(
      /^cannot decode cat\/1\.png as a PNG image \(corrupt or truncated\?\): /,
    );
    const damaged = Uint8Array.from(bytes);
    damaged[damaged.length - 20] ^= 0xff; // inside the image data, whose checksum then fails
    expect(netcError(() => decodeImage(damaged, "cat/5.png"))).toMatch(
      /^cannot decode cat\/5\.png as a PNG image \(corrupt or truncated\?\): .*crc/i,
    );
    const jpeg = fixture("rgb.jpg");
    for (const end of [200, jpeg.length - 40]) {
      expect(netcError(() => decodeImage(jpeg.subarray(0, end), "cat/2.jpg"))).toMatch(
        /^cannot decode cat\/2\.jpg as a JPEG image \(corrupt or truncated\?\): /,
      );
    }
    const gif = new TextEncoder().encode("GIF89a......");
    expect(netcError(() => decodeImage(gif, "cat/3.png"))).toBe(
      "cat/3.png is a GIF image; netc reads PNG and JPEG images",
    );
    expect(netcError(() => decodeImage(new Uint8Array(3), "cat/4.png"))).toBe(
      "cat/4.png is not a PNG or JPEG image (its first bytes are neither's signature)",
    );
  });

  test("the test helper's PNG and JPEG round-trip", () => {
    const pixels = [10, 200, 30, 255, 40, 50, 60, 255];
    const planes = toPlanes(decodeImage(png(2, 1, 4, pixels), "p"), 3);
    expect(Array.from(planes, (x) => Math.round(x * 255))).toEqual([10, 40, 200, 50, 30, 60]);
    const jpeg = decodeImage(jpg(2, 1, pixels), "j");
    expect([jpeg.width, jpeg.height, jpeg.channels]).toEqual([2, 1, 3]);
  });
});

describe("resizing, as PyTorch's F.interpolate", () => {
  const { source, classes, cases } = expected.resize;
  const [c, h, w] = [source.length, source[0]!.length, source[0]![0]!.length];
  const planes = Float32Array.from(flat(source) as number[]);
  const labels = Int32Array.from(flat(classes) as number[]);

  test.each(cases.map((k) => [k.size.join("x"), k] as const))("to %s", (_, k) => {
    const [toH, toW] = k.size;
    const bilinear = resizeBilinear(planes, c, h, w, toH, toW);
    const want = flat(k.bilinear) as number[];
    const worst = Math.max(...Array.from(bilinear, (x, i) => Math.abs(x - want[i]!)));
    expect(worst).toBeLessThan(1e-6);
    expect(Array.from(resizeNearest(labels, h, w, toH, toW))).toEqual(flat(k.nearest));
  });
});

describe("CSV tables", () => {
  const model = (inputShape: number[], ...criterion: ModelExpectation["criterion"]) => ({
    model: "M",
    inputShape,
    criterion,
  });
  const classes = (classes: number, output = "out") =>
    ({ criterion: "NLL", output, target: [], targetKind: "classes", classes }) as const;
  const values = (target: number[], output = "out", criterion = "MSE") =>
    ({ criterion, output, target, targetKind: "values" }) as const;

  test("a header, blank lines, a BOM and quoted cells; each row's line", () => {
    const table = parseTable('\ufeffa,b,"c d"\r\n1,2,x y\r\n\r\n4,"5", 6 \r\n', "t.csv", ",");
    expect(table.columns).toEqual(["a", "b", "c d"]);
    expect(table.values.map((row) => Array.from(row))).toEqual([
      [1, 2, NaN],
      [4, 5, 6],
    ]);
    expect([...table.texts]).toEqual([[2, "x y"]]);
    expect(table.lines).toEqual([2, 4]);
  });

  test("a ragged row is named by its line, counting quoted line breaks", () => {
    expect(netcError(() => parseTable('a,b\n"x\ny",2\n3,4\n5\n', "t.csv", ","))).toBe(
      "line 5 of t.csv has 1 fields but the header has 2 (a, b)",
    );
    expect(netcError(() => parseTable("a,b\n1,2,3\n", "t.csv", ","))).toBe(
      "line 2 of t.csv has 3 fields but the header has 2 (a, b)",
    );
    expect(netcError(() => parseTable('a,b\n1,"2\n', "t.csv", ","))).toBe(
      "line 2 of t.csv: quoted field unterminated",
    );
    expect(netcError(() => parseTable("", "t.csv", ","))).toBe(
      "t.csv is empty: it needs a header row naming the columns",
    );
    expect(netcError(() => parseTable("a,,b\n1,2,3\n", "t.csv", ","))).toBe(
      "line 1 of t.csv, the header, has an empty column name: the first row must name every column",
    );
    expect(netcError(() => parseTable("a,a\n1,2\n", "t.csv", ","))).toBe(
      "t.csv names column a twice",
    );
  });

  const iris = parseTable(
    "w,l,species\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n7,8,setosa\n",
    "iris.csv",
    ",",
  );

  test("features fill the input; class names become indices in sorted order", () => {
    const { dataset, notes } = tableSet(iris, ["species"], model([2], classes(3)));
    expect(Array.from(dataset.inputs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(dataset.targets[0]).toMatchObject({
      shape: [],
      classes: 3,
      classNames: ["setosa", "versicolor", "virginica"],
    });
    expect(Array.from(dataset.targets[0]!.data)).toEqual([2, 0, 1, 0]);
    expect(notes).toEqual([
      "column species: 3 classes in sorted order: 0 setosa, 1 versicolor, 2 virginica",
    ]);
    expect(dataset.locate!(2)).toBe("line 4 of iris.csv");
  });

  test("several targets take the label columns in the criterion's order", () => {
    const table = parseTable("a,b,kind,size\n1,2,x,0.5\n3,4,y,1.5\n", "t.csv", ",");
    const two = model([2], classes(2, "kind"), values([1], "size"));
    const { dataset, notes } = tableSet(table, ["kind", "size"], two);
    expect(dataset.targets.map((t) => [t.output, Array.from(t.data)])).toEqual([
      ["kind", [0, 1]],
      ["size", [0.5, 1.5]],
    ]);
    expect(dataset.targets[1]!.data).toBeInstanceOf(Float32Array);
    expect(notes).toEqual([
      "kind from column kind: 2 classes in sorted order: 0 x, 1 y",
      "size from column size: values",
    ]);
    const vector = tableSet(
      table,
      ["kind", "size"].reverse(),
      model([2], values([1], "size"), classes(2, "kind")),
    );
    expect(vector.dataset.targets.map((t) => t.output)).toEqual(["size", "kind"]);
    const wide = parseTable("a,u,v\n1,2,3\n", "w.csv", ",");
    const both = tableSet(wide, ["u", "v"], model([1], values([2])));
    expect(Array.from(both.dataset.targets[0]!.data)).toEqual([2, 3]);
  });

  test("a binary output takes two names as 0 and 1, integers as they are", () => {
    const table = parseTable("a,answer\n1,yes\n2,no\n3,yes\n", "t.csv", ",");
    const bce = model([1], values([1], "out", "BCE"));
    const named = tableSet(table, ["answer"], bce);
    expect(Array.from(named.dataset.targets[0]!.data)).toEqual([1, 0, 1]);
    expect(named.notes).toEqual(["column answer: 2 classes in sorted order: 0 no, 1 yes"]);
    const numbers = parseTable("a,n\n1,1\n2,0\n", "n.csv", ",");
    const numbered = tableSet(numbers, ["n"], { ...bce, inputShape: [1] });
    expect(Array.from(numbered.dataset.targets[0]!.data)).toEqual([1, 0]);
    expect(numbered.notes).toEqual(["column n: values"]);
  });

  test("errors: a missing label column lists the columns; bad cells name line and column", () => {
    expect(netcError(() => tableSet(iris, ["kind"], model([2], classes(3))))).toBe(
      "iris.csv has no column kind; its columns are: w, l, species",
    );
    expect(netcError(() => tableSet(iris, ["species"], model([3], classes(3))))).toBe(
      "iris.csv has 2 feature columns besides the label species (w, l) but model M takes input [3]: 3 values per sample",
    );
    const bad = parseTable("a,b,y\n1,2,0\n3,x,1\n", "b.csv", ",");
    expect(netcError(() => tableSet(bad, ["y"], model([2], classes(2))))).toBe(
      "line 3 of b.csv, column b: 'x' is not a number",
    );
    const empty = parseTable("a,b,y\n1,,0\n", "e.csv", ",");
    expect(netcError(() => tableSet(empty, ["y"], model([2], classes(2))))).toBe(
      "line 2 of e.csv, column b: the cell is empty",
    );
    const fractional = parseTable("a,y\n1,0\n2,1.5\n", "f.csv", ",");
    expect(netcError(() => tableSet(fractional, ["y"], model([1], classes(2))))).toBe(
      "line 3 of f.csv, column y: '1.5' is not a class: class labels are integers (0, 1, ...) or names",
    );
    expect(netcError(() => tableSet(iris, ["l", "species"], model([1], classes(3))))).toBe(
      "--label names 2 columns (l, species) but model M's criterion takes 1 target value per sample: NLL(out) 1",
    );
    expect(
      netcError(() => tableSet(iris, ["species"], model([2], values([1], "out", "BCE")))),
    ).toBe(
      "column species of iris.csv name 3 classes (0 setosa, 1 versicolor, 2 virginica), but model M's criterion BCE(out) takes values of shape [1]: two classes (as 0 and 1)",
    );
  });
});

/** A store over .npy bytes, as a .npz or a directory of .npy files gives them. */
function store(name: string, files: Record<string, Uint8Array>): ArrayStore {
  return {
    name,
    keys: Object.keys(files),
    read: (key): NdArray => parseNpy(files[key]!, `${key} in ${name}`),
  };
}

const lenet: ModelExpectation = {
  model: "LeNet5",
  inputShape: [1, 2, 2],
  criterion: [{ criterion: "NLL", output: "out", target: [], targetKind: "classes", classes: 3 }],
};

describe("named arrays as training and test sets", () => {
  test("Keras's mnist.npz layout: uint8 [N, H, W] divided by 255, a channel added", () => {
    const sets = arraySets(
      store("m.npz", {
        x_train: npy("|u1", [2, 2, 2], [0, 51, 102, 255, 0, 0, 0, 0]),
        y_train: npy("|u1", [2], [2, 0]),
        x_test: npy("|u1", [1, 2, 2], [255, 255, 255, 255]),
        y_test: npy("<i8", [1], [1]),
      }),
      lenet,
      false,
    );
    expect(Array.from(sets.train.inputs)).toEqual([0, 0.2, 0.4, 1, 0, 0, 0, 0].map(Math.fround));
    expect(sets.train.inputShape).toEqual([1, 2, 2]);
    expect(Array.from(sets.train.targets[0]!.data)).toEqual([2, 0]);
    expect(sets.test!.count).toBe(1);
    expect(sets.notes).toEqual([
      "read x_train [2, 2, 2] uint8, y_train [2] uint8 (uint8 inputs divided by 255)",
      "read x_test [1, 2, 2] uint8, y_test [1] int64 (uint8 inputs divided by 255)",
    ]);
    expect(sets.train.locate!(1)).toBe("record 1 of x_train in m.npz");
  });

  test("channels last (Keras, CIFAR) become channels first; floats are kept; [N, 1] labels", () => {
    const rgb = { ...lenet, inputShape: [3, 1, 2] };
    // Two pixels of RGB: [1, 2, 3] and [4, 5, 6].
    const sets = arraySets(
      store("c.npz", {
        x: npy("<f4", [1, 1, 2, 3], [1, 2, 3, 4, 5, 6]),
        y: npy("|u1", [1, 1], [2]),
      }),
      rgb,
      false,
    );
    expect(Array.from(sets.train.inputs)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(sets.test).toBeUndefined();
    expect(sets.train.targets[0]!.shape).toEqual([]);
  });

  test("one array per output for a model with several: y_train_<output>", () => {
    const detector: ModelExpectation = {
      model: "D",
      inputShape: [2],
      criterion: [
        { criterion: "MSE", output: "boxes", target: [4, 1, 1], targetKind: "values" },
        { criterion: "BCE", output: "objectness", target: [1, 1, 1], targetKind: "values" },
      ],
    };
    const files = {
      x_train: npy("<f4", [1, 2], [1, 2]),
      y_train_boxes: npy("<f4", [1, 4, 1, 1], [0.1, 0.2, 0.3, 0.4]),
      y_train_objectness: npy("|u1", [1, 1, 1], [1]),
    };
    const sets = arraySets(store("d.npz", files), detector, false);
    expect(sets.train.targets.map((t) => [t.output, t.shape, Array.from(t.data)])).toEqual([
      ["boxes", [4, 1, 1], [0.1, 0.2, 0.3, 0.4].map(Math.fround)],
      ["objectness", [1, 1, 1], [1]],
    ]);
    const { y_train_objectness: _, ...without } = files;
    expect(netcError(() => arraySets(store("d.npz", without), detector, false))).toBe(
      "d.npz has no y_train_objectness for output objectness; it holds x_train, y_train_boxes. netc reads x_train, y_train and optionally x_test, y_test (Keras's mnist.npz), or x and y (then --test-split holds out a part); a model with several outputs takes y_train_<output> for each",
    );
  });

  test("names as labels, sorted into classes", () => {
    const sets = arraySets(
      store("s", {
        x: npy("<f4", [3, 4], new Array(12).fill(0)),
        y: npy("<U", [3], ["dog", "cat", "emu"]),
      }),
      { ...lenet, inputShape: [4] },
      false,
    );
    expect(Array.from(sets.train.targets[0]!.data)).toEqual([1, 0, 2]);
    expect(sets.train.targets[0]!.classNames).toEqual(["cat", "dog", "emu"]);
    expect(sets.notes[1]).toBe("y in s: 3 classes in sorted order: 0 cat, 1 dog, 2 emu");
  });

  test("an autoencoder reconstructs its inputs unless the arrays have targets of its shape", () => {
    const auto: ModelExpectation = {
      model: "A",
      inputShape: [2],
      criterion: [{ criterion: "MSE", output: "out", target: [2], targetKind: "values" }],
    };
    const x = npy("<f4", [1, 2], [1, 2]);
    const labels = arraySets(store("a", { x, y: npy("|u1", [1], [3]) }), auto, true);
    expect(labels.train.targets).toEqual([]);
    expect(labels.notes[1]).toBe(
      "x: the targets are the inputs themselves (the model reconstructs them)",
    );
    const clean = arraySets(store("a", { x, y: npy("<f4", [1, 2], [5, 6]) }), auto, true);
    expect(Array.from(clean.train.targets[0]!.data)).toEqual([5, 6]);
  });

  test("errors name the array, its shape or dtype, and the model's side", () => {
    const x = npy("<f4", [2, 1, 2, 2], new Array(8).fill(0.5));
    const run = (files: Record<string, Uint8Array>, model = lenet) =>
      netcError(() => arraySets(store("e.npz", files), model, false));
    expect(run({ images: x })).toBe(
      "e.npz has no x_train or x; it holds images. netc reads x_train, y_train and optionally x_test, y_test (Keras's mnist.npz), or x and y (then --test-split holds out a part); a model with several outputs takes y_train_<output> for each",
    );
    expect(run({ x_train: x })).toMatch(
      /^e\.npz has no y_train \(or y_train_out\); it holds x_train\. /,
    );
    expect(run({ x_train: x, y_train: npy("<f4", [2], [0, 1]) })).toBe(
      'y_train in e.npz holds float32 numbers but model LeNet5\'s criterion NLL(out) takes class indices: save integer labels (y.astype("int64"))',
    );
    expect(run({ x_train: x, y_train: npy("|u1", [3], [0, 1, 2]) })).toBe(
      "y_train in e.npz has 3 records but x_train in e.npz has 2",
    );
    expect(run({ x_train: x, y_train: npy("|u1", [2, 3], [0, 1, 0, 0, 0, 1]) })).toBe(
      "y_train in e.npz holds targets of shape [3] but model LeNet5's criterion NLL(out) takes class indices of shape []",
    );
    expect(
      run({
        x_train: npy("<f4", [2, 3, 3], new Array(18).fill(0)),
        y_train: npy("|u1", [2], [0, 1]),
      }),
    ).toBe(
      "x_train in e.npz holds 2 samples of shape [3, 3] but model LeNet5 takes input [1, 2, 2]",
    );
    expect(run({ x_train: npy("<U", [2], ["a", "b"]), y_train: npy("|u1", [2], [0, 1]) })).toBe(
      "x_train in e.npz holds strings; inputs must be numbers",
    );
    expect(run({ x_train: x, y_train: npy("<i8", [2], [0, 2 ** 40]) })).toBe(
      "label 1099511627776 at record 1 of y_train in e.npz is out of range for the 3 classes of model LeNet5",
    );
  });
});

/** `count` samples of one value each (the sample's index) and a class label `i % classes`. */
function numbered(count: number, classes = 2): Dataset {
  return {
    inputs: Float32Array.from({ length: count }, (_, i) => i),
    inputShape: [1],
    count,
    targets: [
      { output: "out", data: Int32Array.from({ length: count }, (_, i) => i % classes), shape: [] },
    ],
    locate: (r) => `file${r}.png`,
  };
}

describe("holding out a test set", () => {
  test("seeded: the same seed the same split, disjoint, each part in stored order", () => {
    const data = numbered(50);
    const a = holdOut(data, 0.2, 7);
    expect([a.train.count, a.test.count]).toEqual([40, 10]);
    const ids = (d: Dataset) => Array.from(d.inputs);
    expect(ids(holdOut(data, 0.2, 7).test)).toEqual(ids(a.test));
    expect(ids(holdOut(data, 0.2, 8).test)).not.toEqual(ids(a.test));
    expect([...ids(a.train), ...ids(a.test)].sort((x, y) => x - y)).toEqual(ids(data));
    expect(ids(a.test)).toEqual([...ids(a.test)].sort((x, y) => x - y));
    // Labels travel with their samples; errors still name the original file.
    expect(Array.from(a.test.targets[0]!.data)).toEqual(ids(a.test).map((i) => i % 2));
    expect(a.test.locate!(0)).toBe(`file${ids(a.test)[0]}.png`);
  });

  test("an autoencoder's targets stay its own inputs in each part", () => {
    const { train, test } = holdOut(toReconstruction(numbered(10)), 0.3, 1);
    for (const part of [train, test]) {
      expect(part.targets[0]!.data).toBe(part.inputs);
      expect(part.targets[0]!.data.length).toBe(part.count);
    }
  });

  test("at least one test sample; too little data is an error", () => {
    expect(holdOut(numbered(3), 0.1, 0).test.count).toBe(1);
    expect(netcError(() => holdOut(numbered(1), 0.1, 0))).toBe(
      "1 sample cannot be split into a training and a test set by a fraction of 0.1: more data is needed",
    );
    expect(netcError(() => holdOut(numbered(4), 0.9, 0))).toBe(
      "4 samples cannot be split into a training and a test set by a fraction of 0.9: more data is needed",
    );
  });
});

/** LeNet's expectations for samples of one number, scored over `classes` classes. */
const scalarClasses = (classes: number): ModelExpectation => ({
  ...lenet,
  inputShape: [1],
  criterion: [{ ...lenet.criterion[0]!, classes }],
});

describe("checks before the first step", () => {
  test("NaN or infinity in the inputs names the record's source and element", () => {
    const data = numbered(4);
    data.inputShape = [1];
    data.inputs[2] = NaN;
    const model = scalarClasses(2);
    expect(netcError(() => checkDataset(data, model))).toBe(
      "the data's input at file2.png is NaN: training needs finite numbers",
    );
    const wide: Dataset = {
      ...numbered(2),
      inputs: Float32Array.from([0, 1, 2, Infinity]),
      inputShape: [2, 1],
      locate: undefined,
    };
    expect(netcError(() => checkDataset(wide, { ...model, inputShape: [2, 1] }))).toBe(
      "the data's input at record 1 (element [1, 0]) is Infinity: training needs finite numbers",
    );
  });

  test("class counts: the data's named classes against the model's output", () => {
    const data = numbered(4);
    data.targets[0] = { ...data.targets[0]!, classes: 2, classNames: ["cat", "dog"] };
    expect(netcError(() => checkDataset(data, scalarClasses(10)))).toBe(
      "the data has 2 classes (0 cat, 1 dog) but model LeNet5 scores 10",
    );
  });

  test("labels out of range name where they came from and the model's output", () => {
    expect(netcError(() => checkDataset(numbered(4, 4), scalarClasses(3)))).toBe(
      "label 3 at file3.png is out of range for the 3 classes of model LeNet5",
    );
  });

  test("non-finite value targets", () => {
    const data: Dataset = {
      ...numbered(2),
      targets: [
        {
          output: "out",
          data: Float32Array.from([0.5, NaN]),
          shape: [1],
          locate: (r) => `line ${r + 2} of t.csv`,
        },
      ],
    };
    const model: ModelExpectation = {
      model: "R",
      inputShape: [1],
      criterion: [{ criterion: "MSE", output: "out", target: [1], targetKind: "values" }],
    };
    expect(netcError(() => checkDataset(data, model))).toBe(
      "the data's target out at line 3 of t.csv is NaN: training needs finite numbers",
    );
  });
});

describe("class names", () => {
  test("sorted by code point as Python sorts, not by UTF-16 unit", () => {
    // U+FF5E sorts before U+1F600 by code point; its UTF-16 unit 0xFF5E after the surrogate 0xD83D.
    expect(sortNames(["😀", "～", "b", "B", "a"])).toEqual(["B", "a", "b", "～", "😀"]);
    expect(["😀", "～"].sort()).toEqual(["😀", "～"]);
    expect(indexNames(["b", "a", "b"])).toEqual({
      names: ["a", "b"],
      indices: Int32Array.from([1, 0, 1]),
    });
  });

  test("encoded as the criterion takes them: indices, 0/1, one-hot", () => {
    const indices = Int32Array.from([0, 2, 1]);
    const names = ["a", "b", "c"];
    const term = (targetKind: "classes" | "values", target: number[]) => ({
      criterion: "X",
      output: "o",
      target,
      targetKind,
    });
    expect(Array.from(classTarget(indices, names, term("classes", []), "M", "w").data)).toEqual([
      0, 2, 1,
    ]);
    expect(Array.from(classTarget(indices, names, term("values", [3]), "M", "w").data)).toEqual([
      1, 0, 0, 0, 0, 1, 0, 1, 0,
    ]);
    expect(
      Array.from(
        classTarget(Int32Array.from([1, 0]), ["n", "y"], term("values", [1]), "M", "w").data,
      ),
    ).toEqual([1, 0]);
    expect(
      netcError(() =>
        classTarget(indices, names, term("classes", [4, 4]), "M", "the folders of d"),
      ),
    ).toBe(
      "the folders of d give one class per sample, but model M's criterion X(o) takes a class per element of [4, 4]",
    );
  });
});

describe("netc/data runs in browsers", () => {
  test("its modules import no Node module, only the four pure-JavaScript readers", () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (url: URL) => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const text = readFileSync(url, "utf8");
      for (const [, specifier] of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
        if (specifier!.startsWith(".")) visit(new URL(specifier!.replace(/\.js$/, ".ts"), url));
        else packages.add(specifier!);
      }
    };
    visit(new URL("../runtime/data/index.ts", import.meta.url));
    expect([...packages].sort()).toEqual(["fast-png", "fflate", "jpeg-js", "papaparse"]);
    expect(seen.size).toBeGreaterThan(10);
  });
});

describe("one data set in every format reads the same", () => {
  test("100 Fashion-MNIST images as IDX, PNG class folders, .npz, .npy files and CSV, on disk or in memory", () => {
    const fashion = loadFashionMnist({ searchDirs: [] }).test;
    const n = 100;
    const labels = Array.from(fashion.targets[0]!.data.subarray(0, n));
    const pixels = Array.from(fashion.inputs.subarray(0, n * 784), (x) => Math.round(x * 255));
    // Class folders list their images class by class: the reference order is the same.
    const order = labels.map((l, i) => [l, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const image = (i: number) => pixels.slice(i * 784, (i + 1) * 784);
    const root = mkdtempSync(join(tmpdir(), "netc-formats-"));
    try {
      const folders: Record<string, Uint8Array> = {};
      for (const [l, i] of order)
        folders[`${l}/${String(i).padStart(3, "0")}.png`] = png(28, 28, 1, image(i));
      const files: Record<string, string | Uint8Array> = {
        ...Object.fromEntries(Object.entries(folders).map(([k, v]) => [`folders/${k}`, v])),
        "fashion.npz": npz({ x: npy("|u1", [n, 28, 28], pixels), y: npy("|u1", [n], labels) }),
        "arrays/x.npy": npy("|u1", [n, 28, 28], pixels),
        "arrays/y.npy": npy("<i8", [n], labels),
        "fashion.csv": [
          ["label", ...Array.from({ length: 784 }, (_, k) => `p${k}`)].join(","),
          ...labels.map((l, i) => [l, ...image(i).map((p) => p / 255)].join(",")),
        ].join("\n"),
      };
      writeTree(root, files);
      // The playground reads the same files from memory (a dropped folder or zip).
      const inMemory = memoryTree(
        new Map(
          Object.entries(files).map(([k, v]) => [
            k,
            typeof v === "string" ? new TextEncoder().encode(v) : v,
          ]),
        ),
      );
      const model = {
        ...lenet,
        inputShape: [1, 28, 28],
        criterion: [{ ...lenet.criterion[0]!, classes: 10 }],
      };
      const read = (path: string, labelColumns: string[] = []) =>
        loadUserData(join(root, path), model, false, { labels: labelColumns }).train;
      const reference = (indices: readonly number[]) => ({
        inputs: indices.flatMap((i) => image(i).map((p) => Math.fround(p / 255))),
        labels: indices.map((i) => labels[i]!),
      });
      const inOrder = reference(labels.map((_, i) => i));
      const byClass = reference(order.map(([, i]) => i));
      for (const [path, want, columns] of [
        ["folders", byClass, []],
        ["fashion.npz", inOrder, []],
        ["arrays", inOrder, []],
        ["fashion.csv", inOrder, ["label"]],
      ] as const) {
        const data = read(path, [...columns]);
        expect(data.count, path).toBe(n);
        expect(Array.from(data.targets[0]!.data), path).toEqual(want.labels);
        // The CSV's decimal text of p / 255 parses back to the same float32.
        expect(Array.from(data.inputs), path).toEqual(want.inputs);
        const fromMemory = loadTreeData(inMemory, path, model, false, { labels: [...columns] });
        expect(fromMemory.train.inputs, path).toEqual(data.inputs);
        expect(fromMemory.train.targets[0]!.data, path).toEqual(data.targets[0]!.data);
        expect(fromMemory.description, path).toBe(
          loadUserData(join(root, path), model, false, {
            labels: [...columns],
          }).description.replace(`${root}/`, ""),
        );
      }
      // IDX files, gzip-compressed, read without Node's zlib: the embedded sample's.
      const sample = new URL("../data/fashion-mnist-sample/", import.meta.url);
      const idx = memoryTree(
        new Map(
          ["train-images", "train-labels", "t10k-images", "t10k-labels"].map((name) => {
            const file = `${name}-idx${name.endsWith("images") ? 3 : 1}-ubyte.gz`;
            return [`idx/${file}`, new Uint8Array(readFileSync(new URL(file, sample)))];
          }),
        ),
      );
      const fromIdx = loadTreeData(idx, "idx", model, false);
      expect(fromIdx.description).toBe("IDX files in idx (4,000 train, 1,000 test)");
      // Bytes compared at once: toEqual on 784,000 floats takes seconds.
      const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      expect(bytes(fromIdx.test!.inputs).equals(bytes(fashion.inputs))).toBe(true);
      expect(bytes(fromIdx.test!.targets[0]!.data).equals(bytes(fashion.targets[0]!.data))).toBe(
        true,
      );
      expect(fromIdx.classNames).toEqual(fashion.targets[0]!.classNames);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
