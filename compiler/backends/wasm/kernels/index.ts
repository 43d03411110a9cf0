// The WASM backend's kernel table: the ops with WASM code. A step whose op is missing here, or
// whose kernel declines its attributes, runs its JS kernel.
import { activation, activationGrad } from "./activations.js";
import { conv2d, conv2dGradInput, conv2dGradWeight } from "./convolution.js";
import { dropout, dropoutGrad } from "./dropout.js";
import type { OpName } from "../../../ops.js";
import type { WasmKernel } from "./kernel.js";
import { linear, linearGradInput, linearGradWeight } from "./linear.js";
import { bce, bceGrad, mse, mseGrad } from "./losses.js";
import { avgPool, avgPoolGrad, maxPool, maxPoolGrad } from "./pooling.js";
import { prelu, preluGrad } from "./prelu.js";
import {
  add,
  addGrad,
  concat,
  concatGrad,
  upsampleNearest,
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
  add,
  add_grad: addGrad,
  concat,
  concat_grad: concatGrad,
  upsample_nearest: upsampleNearest,
  upsample_nearest_grad: upsampleNearestGrad,
  zero,
  batch_norm: batchNorm,
  batch_norm_grad: batchNormGrad,
  prelu,
  prelu_grad: preluGrad,
};
