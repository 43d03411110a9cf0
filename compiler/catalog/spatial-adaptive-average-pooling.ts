// SpatialAdaptiveAveragePooling: the mean of each of h × w windows (PyTorch's AdaptiveAvgPool2d).
import { adaptivePoolingLayer } from "./adaptive-pooling.js";

export const spatialAdaptiveAveragePooling = adaptivePoolingLayer(
  "SpatialAdaptiveAveragePooling",
  "Mean over each of h × w windows that tile the input, per channel (global average pooling is (1, 1)).",
  ["AdaptiveAvgPool2d", "AdaptiveAvgPool", "GlobalAveragePooling2D", "GlobalAvgPool"],
  "avg",
);
