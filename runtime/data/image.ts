// PNG and JPEG images as a model takes them: decoded (fast-png, jpeg-js), converted to the input's
// channels, scaled to [0, 1] and, when asked, resized; masks as class indices (no Node imports).
import { decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import { NetcError } from "../errors.js";

/** A decoded image: samples row-major and interleaved (`[height, width, channels]`), 0 .. max. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 grey (or palette indices), 2 grey and alpha, 3 RGB, 4 RGBA. */
  channels: number;
  data: Uint8Array | Uint16Array | Uint8ClampedArray;
  /** The largest sample value: 255, 65535, or 2^depth − 1 for 1-, 2- and 4-bit greys. */
  max: number;
  /** For palette images: the RGB(A) colour of each index in `data`. */
  palette?: number[][];
  format: "PNG" | "JPEG";
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, prefix: readonly number[]) =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);

/** What other image files are, to say so rather than "not a PNG". */
function otherFormat(bytes: Uint8Array): string | undefined {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 12));
  if (text.startsWith("GIF8")) return "a GIF image";
  if (text.startsWith("BM")) return "a BMP image";
  if (text.startsWith("RIFF") && text.slice(8, 12) === "WEBP") return "a WebP image";
  if (text.startsWith("II*\0") || text.startsWith("MM\0*")) return "a TIFF image";
  return undefined;
}

/** Samples of 1-, 2- and 4-bit images, which fast-png leaves packed (rows padded to bytes). */
function unpack(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const stride = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * stride + (bit >> 3)]!;
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function readPng(bytes: Uint8Array): RawImage {
  // Checksums on, as Pillow (torchvision's loader) checks them: a damaged file is refused.
  const png = decodePng(bytes, { checkCrc: true });
  const { width, height, channels, depth } = png;
  const palette = png.palette;
  let data = png.data;
  if (depth < 8) data = unpack(data as Uint8Array, width, height, depth);
  const max = palette ? 255 : 2 ** depth - 1;
  return { width, height, channels, data, max, format: "PNG", ...(palette ? { palette } : {}) };
}

function readJpeg(bytes: Uint8Array): RawImage {
  // Grey JPEGs come out as three equal channels; jpeg-js bounds the memory a header can ask for.
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  return {
    width: image.width,
    height: image.height,
    channels: 3,
    data: image.data,
    max: 255,
    format: "JPEG",
  };
}

/** Decodes a PNG or JPEG file, told apart by content; `name` names it in errors. */
export function decodeImage(bytes: Uint8Array, name: string): RawImage {
  const format = startsWith(bytes, PNG_SIGNATURE)
    ? "PNG"
    : startsWith(bytes, [0xff, 0xd8, 0xff])
      ? "JPEG"
      : undefined;
  if (!format) {
    const other = otherFormat(bytes);
    throw new NetcError(
      other
        ? `${name} is ${other}; netc reads PNG and JPEG images`
        : `${name} is not a PNG or JPEG image (its first bytes are neither's signature)`,
    );
  }
  let image: RawImage;
  try {
    image = format === "PNG" ? readPng(bytes) : readJpeg(bytes);
  } catch (error) {
    // Decoders' messages can end in a dangling colon ("Error while decompressing the data:").
    const reason = (error instanceof Error ? error.message : String(error)).replace(/[\s:]+$/, "");
    throw new NetcError(
      `cannot decode ${name} as a ${format} image (corrupt or truncated?): ${reason}`,
    );
  }
  const expected = image.width * image.height * image.channels;
  if (image.width === 0 || image.height === 0 || image.data.length < expected) {
    throw new NetcError(`cannot decode ${name} as a ${format} image: it is truncated`);
  }
  return image;
}

/** ITU-R 601-2 luma in 16-bit fixed point, rounded: exactly PIL's `convert("L")`. */
const luma = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/**
 * The image as `channels` planes (`[channels, height, width]`) scaled to [0, 1]: grey copied into
 * each colour, colour to grey by luma, alpha dropped (or 1 where the model takes an alpha
 * channel the image lacks), palettes looked up.
 */
export function toPlanes(image: RawImage, channels: number): Float32Array {
  const { width, height, data, palette } = image;
  const pixels = width * height;
  const out = new Float32Array(channels * pixels);
  const scale = 1 / image.max;
  const colour = image.channels >= 3 || palette !== undefined;
  const alpha = image.channels === 2 || image.channels === 4 || (palette?.[0]?.length ?? 0) === 4;
  for (let p = 0; p < pixels; p++) {
    let r: number, g: number, b: number, a: number;
    if (palette) {
      const entry = palette[data[p]!] ?? [0, 0, 0];
      [r, g, b, a] = [entry[0]!, entry[1]!, entry[2]!, entry[3] ?? 255];
    } else {
      const at = p * image.channels;
      r = data[at]!;
      [g, b] = colour ? [data[at + 1]!, data[at + 2]!] : [r, r];
      a = alpha ? data[at + image.channels - 1]! : image.max;
    }
    if (channels === 1) {
      out[p] = (colour ? luma(r, g, b) : r) * scale;
      continue;
    }
    out[p] = r * scale;
    out[pixels + p] = g * scale;
    out[2 * pixels + p] = b * scale;
    if (channels === 4) out[3 * pixels + p] = a * scale;
  }
  return out;
}

/**
 * A segmentation mask's class per pixel: the grey value, or the palette index of a palette PNG.
 * Colour masks and JPEGs (whose compression changes values) are refused.
 */
export function toClasses(image: RawImage, name: string): Int32Array {
  if (image.format === "JPEG") {
    throw new NetcError(
      `${name} is a JPEG mask; JPEG compression changes pixel values, so masks must be PNG (greyscale or palette)`,
    );
  }
  if (image.channels !== 1) {
    throw new NetcError(
      `${name} is a ${image.channels === 3 || image.channels === 4 ? "colour" : "grey-and-alpha"} image; a mask must be a greyscale or palette PNG whose pixel value is the class index`,
    );
  }
  return Int32Array.from(image.data);
}

/**
 * Resizes `[planes, height, width]` to `[planes, toHeight, toWidth]` bilinearly, as PyTorch's
 * `F.interpolate(mode="bilinear", align_corners=False, antialias=False)`.
 */
export function resizeBilinear(
  src: Float32Array,
  planes: number,
  height: number,
  width: number,
  toHeight: number,
  toWidth: number,
): Float32Array {
  const out = new Float32Array(planes * toHeight * toWidth);
  const axis = (to: number, from: number) => {
    const scale = from / to;
    return Array.from({ length: to }, (_, i) => {
      const source = Math.max(0, scale * (i + 0.5) - 0.5);
      const i0 = Math.floor(source);
      return { i0, i1: i0 < from - 1 ? i0 + 1 : i0, t: source - i0 };
    });
  };
  const ys = axis(toHeight, height);
  const xs = axis(toWidth, width);
  for (let c = 0; c < planes; c++) {
    const plane = c * height * width;
    for (let y = 0; y < toHeight; y++) {
      const { i0: y0, i1: y1, t: ty } = ys[y]!;
      for (let x = 0; x < toWidth; x++) {
        const { i0: x0, i1: x1, t: tx } = xs[x]!;
        const top = src[plane + y0 * width + x0]! * (1 - tx) + src[plane + y0 * width + x1]! * tx;
        const bottom =
          src[plane + y1 * width + x0]! * (1 - tx) + src[plane + y1 * width + x1]! * tx;
        out[(c * toHeight + y) * toWidth + x] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

/**
 * Resizes a `[height, width]` map of class indices by nearest neighbour (classes cannot be
 * blended), as PyTorch's `F.interpolate(mode="nearest")`: source index ⌊i · from / to⌋.
 */
export function resizeNearest(
  src: Int32Array,
  height: number,
  width: number,
  toHeight: number,
  toWidth: number,
): Int32Array {
  // PyTorch computes the scale and the product in float32.
  const axis = (to: number, from: number) => {
    const scale = Math.fround(from / to);
    return Array.from({ length: to }, (_, i) =>
      Math.min(Math.floor(Math.fround(i * scale)), from - 1),
    );
  };
  const ys = axis(toHeight, height);
  const xs = axis(toWidth, width);
  const out = new Int32Array(toHeight * toWidth);
  for (let y = 0; y < toHeight; y++) {
    for (let x = 0; x < toWidth; x++) out[y * toWidth + x] = src[ys[y]! * width + xs[x]!]!;
  }
  return out;
}
