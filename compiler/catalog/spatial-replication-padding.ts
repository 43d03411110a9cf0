// SpatialReplicationPadding: a border repeating the plane's edge (PyTorch's ReplicationPad2d).
import { paddingLayer } from "./padding.js";

export const spatialReplicationPadding = paddingLayer(
  "SpatialReplicationPadding",
  "Pads each plane with copies of its edge rows and columns.",
  ["ReplicationPad2d", "ReplicationPad"],
  "replicate",
);
