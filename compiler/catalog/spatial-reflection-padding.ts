// SpatialReflectionPadding: a border mirroring the plane about its edge (PyTorch's ReflectionPad2d).
import { paddingLayer } from "./padding.js";

export const spatialReflectionPadding = paddingLayer(
  "SpatialReflectionPadding",
  "Pads each plane with its mirror image about the edge, the edge not repeated.",
  ["ReflectionPad2d", "ReflectionPad"],
  "reflect",
);
