// Folders of images as data sets (no Node imports; the files come from the caller): a folder per
// class, as torchvision's ImageFolder and Keras's image_dataset_from_directory read them, plain
// images for an autoencoder, or images with segmentation masks of the same name.
import { NetcError } from "../errors.js";
import type { ModelExpectation } from "./check-dataset.js";
import { formatShape, type Dataset } from "./dataset.js";
import { decodeImage, resizeBilinear, resizeNearest, toClasses, toPlanes } from "./image.js";
import { classTarget } from "./labels.js";

/** An image file: its path as the user knows it (named in errors), and its bytes on demand. */
export interface ImageFile {
  path: string;
  read(): Uint8Array;
}

export interface ImageOptions {
  /** Resize every image to the model's size (bilinear; masks by nearest neighbour). */
  resize: boolean;
}

/** The model's input as an image: `[channels, height, width]` with 1, 3 or 4 channels. */
function imageShape(model: ModelExpectation): [number, number, number] {
  const shape = model.inputShape;
  if (shape.length !== 3 || ![1, 3, 4].includes(shape[0]!)) {
    throw new NetcError(
      `model ${model.model} takes input ${formatShape(shape)}; images feed an input [channels, height, width] with 1 (grey), 3 (RGB) or 4 (RGBA) channels`,
    );
  }
  return shape as [number, number, number];
}

function sizeError(
  file: ImageFile,
  width: number,
  height: number,
  model: ModelExpectation,
): NetcError {
  const [, h, w] = model.inputShape;
  return new NetcError(
    `${file.path} is ${width}x${height} but model ${model.model} takes ${w}x${h} images (input ${formatShape(model.inputShape)}); pass --resize to resize every image (bilinear)`,
  );
}

/**
 * Decodes every image into one input array, converted to the model's channels and size; `sizes`
 * receives each image's own width and height.
 */
function readImages(
  files: readonly ImageFile[],
  model: ModelExpectation,
  options: ImageOptions,
  sizes: [number, number][] = [],
): Dataset {
  const [c, h, w] = imageShape(model);
  const size = c * h * w;
  const inputs = new Float32Array(files.length * size);
  files.forEach((file, n) => {
    const image = decodeImage(file.read(), file.path);
    sizes.push([image.width, image.height]);
    let planes = toPlanes(image, c);
    if (image.width !== w || image.height !== h) {
      if (!options.resize) throw sizeError(file, image.width, image.height, model);
      planes = resizeBilinear(planes, c, image.height, image.width, h, w);
    }
    inputs.set(planes, n * size);
  });
  const locate = (record: number) => files[record]!.path;
  return { inputs, inputShape: [c, h, w], count: files.length, targets: [], locate };
}

/** Images without labels: only an autoencoder, whose targets are its inputs, learns from them. */
export function plainImageSet(
  files: readonly ImageFile[],
  model: ModelExpectation,
  options: ImageOptions,
): Dataset {
  return readImages(files, model, options);
}

/**
 * A folder per class, `classes` in sorted order (the class index is the position): the images
 * with their class as the model's one criterion term takes it (index, 0/1 or one-hot).
 */
export function classFolderSet(
  classes: readonly { name: string; files: readonly ImageFile[] }[],
  where: string,
  model: ModelExpectation,
  options: ImageOptions,
): Dataset {
  const files = classes.flatMap((c) => c.files);
  const term = model.criterion[0]!;
  if (model.criterion.length > 1) {
    const outputs = model.criterion.map((t) => t.output).join(", ");
    throw new NetcError(
      `class folders give one label per image, but model ${model.model} has a target per output (${outputs}): use a .npz with y_train_<output> arrays`,
    );
  }
  if (term.targetKind === "classes" && term.target.length > 0) {
    throw new NetcError(
      `${where} has a folder per class, but model ${model.model}'s criterion ${term.criterion} takes a class per pixel ${formatShape(term.target)}: put the images in ${where}/images and their masks (PNG, pixel value = class) in ${where}/masks`,
    );
  }
  const names = classes.map((c) => c.name);
  const indices = Int32Array.from(classes.flatMap((c, i) => c.files.map(() => i)));
  const dataset = readImages(files, model, options);
  dataset.targets.push(
    classTarget(indices, names, term, model.model, `the class folders of ${where}`),
  );
  return dataset;
}

/**
 * Images and their masks (a class index per pixel), as the model's one class-per-pixel term
 * takes them: masks must have their image's size, and are resized by nearest neighbour.
 */
export function maskedImageSet(
  pairs: readonly { image: ImageFile; mask: ImageFile }[],
  model: ModelExpectation,
  options: ImageOptions,
): Dataset {
  const term = model.criterion[0]!;
  const [, h, w] = imageShape(model);
  if (
    model.criterion.length > 1 ||
    term.targetKind !== "classes" ||
    formatShape(term.target) !== formatShape([h, w])
  ) {
    const terms = model.criterion
      .map(
        (t) =>
          `${t.criterion}(${t.output}) ${t.targetKind === "classes" ? "class indices" : "values"} ${formatShape(t.target)}`,
      )
      .join(", ");
    throw new NetcError(
      `masks give a class per pixel ([${h}, ${w}]), but model ${model.model}'s criterion takes ${terms}`,
    );
  }
  const sizes: [number, number][] = [];
  const images = pairs.map((p) => p.image);
  const dataset = readImages(images, model, options, sizes);
  const masks = new Int32Array(pairs.length * h * w);
  pairs.forEach(({ image, mask }, n) => {
    const decoded = decodeImage(mask.read(), mask.path);
    let classes = toClasses(decoded, mask.path);
    const [width, height] = sizes[n]!;
    if (decoded.width !== width || decoded.height !== height) {
      throw new NetcError(
        `${mask.path} is ${decoded.width}x${decoded.height} but its image ${image.path} is ${width}x${height}`,
      );
    }
    if (width !== w || height !== h) {
      classes = resizeNearest(classes, height, width, h, w);
    }
    masks.set(classes, n * h * w);
  });
  const locate = (record: number) => pairs[record]!.mask.path;
  dataset.targets.push({ output: term.output, data: masks, shape: [h, w], locate });
  return dataset;
}
