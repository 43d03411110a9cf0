// SpatialZeroPadding: a border of zeros (PyTorch's ZeroPad2d); negative paddings crop.
import { paddingLayer } from "./padding.js";

export const spatialZeroPadding = paddingLayer(
  "SpatialZeroPadding",
  "Adds rows and columns of zeros around each plane; a negative padding crops.",
  ["ZeroPad2d", "ZeroPadding2D", "ConstantPad2d"],
  "zero",
);
