// The catalog: every layer and criterion the language knows, by name.
import { activations } from "./activations.js";
import { add } from "./add.js";
import { batchNormalization, spatialBatchNormalization } from "./batch-normalization.js";
import { concat } from "./concat.js";
import { criteria, type CriterionDef } from "./criteria.js";
import { dropout } from "./dropout.js";
import { flatten } from "./flatten.js";
import {
  groupNormalization,
  instanceNormalization,
  layerNormalization,
} from "./group-normalization.js";
import { linear } from "./linear.js";
import { mul } from "./mul.js";
import { spatialAdaptiveAveragePooling } from "./spatial-adaptive-average-pooling.js";
import { spatialAdaptiveMaxPooling } from "./spatial-adaptive-max-pooling.js";
import { prelu } from "./prelu.js";
import { spatialAveragePooling } from "./spatial-average-pooling.js";
import { spatialConvolution } from "./spatial-convolution.js";
import { spatialFullConvolution } from "./spatial-full-convolution.js";
import { spatialMaxPooling } from "./spatial-max-pooling.js";
import { spatialReflectionPadding } from "./spatial-reflection-padding.js";
import { spatialReplicationPadding } from "./spatial-replication-padding.js";
import { spatialZeroPadding } from "./spatial-zero-padding.js";
import { spatialUpSamplingBilinear } from "./spatial-up-sampling-bilinear.js";
import { spatialUpSamplingNearest } from "./spatial-up-sampling-nearest.js";
import type { LayerDef } from "./types.js";
import { view } from "./view.js";

export type * from "./types.js";
export type { CriterionDef } from "./criteria.js";

export const layerList: readonly LayerDef[] = [
  spatialConvolution,
  spatialFullConvolution,
  spatialMaxPooling,
  spatialAveragePooling,
  spatialAdaptiveMaxPooling,
  spatialAdaptiveAveragePooling,
  spatialBatchNormalization,
  spatialUpSamplingNearest,
  spatialUpSamplingBilinear,
  spatialZeroPadding,
  spatialReflectionPadding,
  spatialReplicationPadding,
  linear,
  batchNormalization,
  view,
  flatten,
  ...activations,
  prelu,
  dropout,
  concat,
  add,
  groupNormalization,
  layerNormalization,
  instanceNormalization,
  mul,
];

export const layers: ReadonlyMap<string, LayerDef> = new Map(layerList.map((l) => [l.name, l]));
export const criterionList: readonly CriterionDef[] = criteria;
export const criterionByName: ReadonlyMap<string, CriterionDef> = new Map(
  criteria.map((c) => [c.name, c]),
);

function aliasMap(
  defs: readonly { name: string; aliases?: string[] }[],
): ReadonlyMap<string, string> {
  return new Map(
    defs.flatMap((d) => (d.aliases ?? []).map((a) => [a.toLowerCase(), d.name] as const)),
  );
}

/** Other frameworks' names (lower-cased) → ours, for "did you mean". */
export const layerAliases = aliasMap(layerList);
export const criterionAliases = aliasMap(criteria);
