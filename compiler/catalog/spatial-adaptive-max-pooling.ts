// SpatialAdaptiveMaxPooling: the maximum of each of h × w windows (PyTorch's AdaptiveMaxPool2d).
import { adaptivePoolingLayer } from "./adaptive-pooling.js";

export const spatialAdaptiveMaxPooling = adaptivePoolingLayer(
  "SpatialAdaptiveMaxPooling",
  "Maximum over each of h × w windows that tile the input, per channel (global max pooling is (1, 1)).",
  ["AdaptiveMaxPool2d", "AdaptiveMaxPool", "GlobalMaxPooling2D", "GlobalMaxPool"],
  "max",
);
