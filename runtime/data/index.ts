// The data readers (`netc/data`): files' bytes in, data sets a compiled model trains on out. Pure
// JavaScript, for browsers as well as Node; `netc train --data` reads files with them.
export { arraySets, type ArraySets, type ArrayStore } from "./array-set.js";
export { checkDataset, type ExpectedTarget, type ModelExpectation } from "./check-dataset.js";
export { parseTable, tableSet, type Table, type TableSet } from "./csv.js";
export { toReconstruction, type Dataset, type Target } from "./dataset.js";
export {
  decodeImage,
  resizeBilinear,
  resizeNearest,
  toClasses,
  toPlanes,
  type RawImage,
} from "./image.js";
export {
  classFolderSet,
  maskedImageSet,
  plainImageSet,
  type ImageFile,
  type ImageOptions,
} from "./image-folder.js";
export {
  loadTreeData,
  memoryTree,
  sourceKindIn,
  tableColumns,
  type FileTree,
  type SourceKind,
  type UserData,
  type UserDataOptions,
} from "./file-tree.js";
export { parseIdx } from "./idx.js";
export { classTarget, indexNames, sortNames } from "./labels.js";
export { parseNpy, parseNpz, type NdArray } from "./npy.js";
export { holdOut, selectSamples } from "./split.js";
export { expectationOf } from "../bind-data.js";
