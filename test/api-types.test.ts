// runtime/api-types.ts copies the compiler's OptimizerConfig and TrainConfig so that a
// standalone module's .d.ts needs no import: these checks fail to type-check when they drift.
import { expect, test } from "vitest";
import type { OptimizerConfig, TrainConfig } from "../compiler/ir.js";
import type * as Api from "../runtime/api-types.js";

/** True when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const same: [Same<Api.OptimizerConfig, OptimizerConfig>, Same<Api.TrainConfig, TrainConfig>] = [
  true,
  true,
];

test("the public types match the compiler's (checked by tsc --noEmit)", () => {
  expect(same).toEqual([true, true]);
});
