// SpatialAveragePooling: the mean of each window (PyTorch's AvgPool2d: padding counted in the mean
// unless count_include_pad=false).
import { poolingLayer } from "./pooling.js";

export const spatialAveragePooling = poolingLayer(
  "SpatialAveragePooling",
  "Mean over each window, per channel (zero padding counts in the mean unless count_include_pad=false, as in PyTorch).",
  ["AvgPool2d", "AvgPool", "AveragePooling2D", "AveragePooling"],
  "avg_pool",
);
