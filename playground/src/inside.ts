// "Look inside": tensors drawn as images (filters, feature maps, the input with its predicted
// mask or boxes), each value range stretched to the full grey or colour scale.
import type { FromTrainer, Picture } from "./protocol.js";

type Inside = Extract<FromTrainer, { type: "inside" }>;

/** A canvas of `width` x `height` whose pixels `pixel(x, y)` gives as [r, g, b] in 0..255. */
function canvasOf(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number],
  scale: number,
): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  const context = canvas.getContext("2d")!;
  const image = context.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const at = 4 * (y * width + x);
      image.data.set([r, g, b, 255], at);
    }
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

/** Maps values in [min, max] to 0..255. */
function stretch(data: Float32Array, from = 0, to = data.length): (v: number) => number {
  let min = Infinity;
  let max = -Infinity;
  for (let i = from; i < to; i++) {
    min = Math.min(min, data[i]!);
    max = Math.max(max, data[i]!);
  }
  const range = max - min || 1;
  return (v) => Math.round((255 * (v - min)) / range);
}

/** Image planes [C, H, W] (or [H, W]) as grey, or colour when C is 3. */
function imageCanvas(p: Picture, scale: number, offset = 0, channels?: number): HTMLCanvasElement {
  const [h, w] = p.shape.slice(-2) as [number, number];
  const c = channels ?? (p.shape.length === 3 && p.shape[0] === 3 ? 3 : 1);
  const plane = h * w;
  const level = stretch(p.data, offset, offset + c * plane);
  return canvasOf(
    w,
    h,
    (x, y) => {
      const v = (k: number) => level(p.data[offset + k * plane + y * w + x]!);
      return c === 3 ? [v(0), v(1), v(2)] : [v(0), v(0), v(0)];
    },
    scale,
  );
}

const figure = (caption: string, ...content: HTMLElement[]) => {
  const f = document.createElement("figure");
  const c = document.createElement("figcaption");
  c.textContent = caption;
  const grid = document.createElement("div");
  grid.className = "tiles";
  grid.append(...content);
  f.append(c, grid);
  return f;
};

const MASK_COLOURS: [number, number, number][] = [
  [0, 0, 0],
  [255, 64, 64],
  [64, 200, 64],
  [64, 96, 255],
];

export function drawInside(into: HTMLElement, inside: Inside, mapsName: string): void {
  const parts: HTMLElement[] = [];
  const { filters, image, maps, mask, boxes } = inside;
  if (filters) {
    // [out, in, kh, kw]: each output's filter over its first input channel, or in colour for RGB.
    const [out, channels, kh, kw] = filters.shape as [number, number, number, number];
    const colour = channels === 3 ? 3 : 1;
    const tiles = Array.from({ length: out }, (_, o) =>
      imageCanvas(filters, Math.max(4, Math.floor(48 / kh)), o * channels * kh * kw, colour),
    );
    tiles.forEach((t) => t.classList.add("filter"));
    parts.push(figure(`first convolution's filters (${out}, ${kh}x${kw})`, ...tiles));
  }
  const input = imageCanvas(image, 4);
  input.classList.add("input-image");
  const [h, w] = image.shape.slice(-2) as [number, number];
  if (mask) {
    // The predicted classes over the image: each class but the first (background) in a colour.
    const context = input.getContext("2d")!;
    const pixels = context.getImageData(0, 0, w, h);
    for (let p = 0; p < w * h; p++) {
      const c = mask.data[p]!;
      if (c === 0) continue;
      const colour = MASK_COLOURS[c % MASK_COLOURS.length]!;
      for (let k = 0; k < 3; k++)
        pixels.data[4 * p + k] = Math.round(0.45 * pixels.data[4 * p + k]! + 0.55 * colour[k]!);
    }
    context.putImageData(pixels, 0, 0);
    parts.push(figure("test image with the predicted mask", input));
  } else if (boxes) {
    const context = input.getContext("2d")!;
    context.strokeStyle = "#ff3030";
    context.lineWidth = 1;
    for (const b of boxes) context.strokeRect(b.x, b.y, b.width, b.height);
    parts.push(figure(`test image and ${boxes.length} predicted boxes`, input));
  } else {
    parts.push(figure("test image", input));
  }
  if (maps) {
    const [c, mh, mw] = maps.shape as [number, number, number];
    const scale = Math.max(1, Math.floor(96 / Math.max(mh, mw)));
    const tiles = Array.from({ length: c }, (_, k) => imageCanvas(maps, scale, k * mh * mw, 1));
    tiles.forEach((t) => t.classList.add("feature-map"));
    parts.push(figure(`feature maps of ${mapsName} (${c}, ${mh}x${mw})`, ...tiles));
  }
  into.replaceChildren(...parts);
}
