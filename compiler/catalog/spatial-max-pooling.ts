// SpatialMaxPooling: the maximum of each window (PyTorch's MaxPool2d, padding with -inf).
import { poolingLayer } from "./pooling.js";

export const spatialMaxPooling = poolingLayer(
  "SpatialMaxPooling",
  "Maximum over each window, per channel.",
  ["MaxPool2d", "MaxPool", "MaxPooling2D", "MaxPooling"],
  "max_pool",
);
