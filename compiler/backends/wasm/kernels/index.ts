// The WASM backend's kernel table: the ops with WASM code. A step whose op is missing here, or
// whose kernel declines its attributes, runs its JS kernel.
import { activation, activationGrad } from "./activations.js";
import { conv2d, conv2dGradInput, conv2dGradWeight } from "./convolution.js";
import { dropout, dropoutGrad } from "./dropout.js";
import type { OpName } from "../../../ops.js";
import type { WasmKernel } from "./kernel.js";
import { linear, linearGradInput, linearGradWeight } from "./linear.js";
import {
  bce,
  bceGrad,
  bceLogits,
  bceLogitsGrad,
  klDiv,
  klDivGrad,
  mse,
  mseGrad,
  smoothL1,
  smoothL1Grad,
} from "./losses.js";
import { pad, padGrad } from "./padding.js";
import { broadcastAdd, broadcastGrad, broadcastMul } from "./broadcast.js";
import { groupNorm, groupNormGrad, groupNormGradParams } from "./group-norm.js";
import {
  adaptiveAvgPool,
  adaptiveAvgPoolGrad,
  adaptiveMaxPool,
  adaptiveMaxPoolGrad,
  avgPool,
  avgPoolGrad,
  maxPool,
  maxPoolGrad,
} from "./pooling.js";
import { prelu, preluGrad } from "./prelu.js";
import {
  add,
  addGrad,
  concat,
  concatGrad,
  upsampleNearest,
  upsampleBilinear,
  upsampleBilinearGrad,
  upsampleNearestGrad,
  zero,
} from "./shape-ops.js";
import { batchNorm, batchNormGrad } from "./normalization.js";
import {
  classLossGrad,
  crossEntropy,
  logSoftmax,
  logSoftmaxGrad,
  nll,
  softmax,
  softmaxGrad,
} from "./softmax.js";

export const wasmKernels: { readonly [K in OpName]?: WasmKernel<K> } = {
  activation,
  activation_grad: activationGrad,
  conv2d,
  conv2d_grad_input: conv2dGradInput,
  conv2d_grad_weight: conv2dGradWeight,
  linear,
  linear_grad_input: linearGradInput,
  linear_grad_weight: linearGradWeight,
  max_pool: maxPool,
  max_pool_grad: maxPoolGrad,
  avg_pool: avgPool,
  avg_pool_grad: avgPoolGrad,
  adaptive_max_pool: adaptiveMaxPool,
  adaptive_max_pool_grad: adaptiveMaxPoolGrad,
  adaptive_avg_pool: adaptiveAvgPool,
  adaptive_avg_pool_grad: adaptiveAvgPoolGrad,
  pad,
  pad_grad: padGrad,
  softmax,
  softmax_grad: softmaxGrad,
  log_softmax: logSoftmax,
  log_softmax_grad: logSoftmaxGrad,
  nll,
  cross_entropy: crossEntropy,
  class_loss_grad: classLossGrad,
  dropout,
  dropout_grad: dropoutGrad,
  mse,
  mse_grad: mseGrad,
  bce,
  bce_grad: bceGrad,
  smooth_l1: smoothL1,
  smooth_l1_grad: smoothL1Grad,
  bce_logits: bceLogits,
  bce_logits_grad: bceLogitsGrad,
  kl_div: klDiv,
  kl_div_grad: klDivGrad,
  add,
  add_grad: addGrad,
  broadcast_add: broadcastAdd,
  broadcast_mul: broadcastMul,
  broadcast_grad: broadcastGrad,
  concat,
  concat_grad: concatGrad,
  upsample_nearest: upsampleNearest,
  upsample_nearest_grad: upsampleNearestGrad,
  upsample_bilinear: upsampleBilinear,
  upsample_bilinear_grad: upsampleBilinearGrad,
  zero,
  batch_norm: batchNorm,
  batch_norm_grad: batchNormGrad,
  prelu,
  prelu_grad: preluGrad,
  group_norm: groupNorm,
  group_norm_grad: groupNormGrad,
  group_norm_grad_params: groupNormGradParams,
};
