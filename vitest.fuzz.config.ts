// `npm run fuzz`: only the fuzz properties, for a time budget shared among them (FUZZ_SECONDS,
// 600 by default; see test/fuzz/budget.ts), one file after the other on a shared machine.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/fuzz-*.test.ts"],
    env: { FUZZ_SECONDS: process.env["FUZZ_SECONDS"] ?? "600" },
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
