import { writeFileSync } from "node:fs";
import { encode } from "fast-png";
import { Rng } from "../runtime/rng.js";
import { ecgSet, ecgClassNames } from "../runtime/data/synthetic-ecg.js";
const set = ecgSet(60, new Rng(1));
const L = 256, rowH = 80, W = L * 3;
const picks: number[] = [];
for (let c = 0; c < 6; c++) { let k = 0; for (let n = 0; n < 60 && k < 2; n++) if (set.dataset.targets[0]!.data[n] === c) { picks.push(n); k++; } }
const H = rowH * picks.length;
const img = new Uint8Array(W * H * 3).fill(255);
picks.forEach((n, r) => {
  const sig = set.dataset.inputs.subarray(n * L, (n + 1) * L);
  let prev = -1;
  for (let x = 0; x < W; x++) {
    const v = sig[Math.floor(x / 3)]!;
    const y = Math.max(0, Math.min(rowH - 1, Math.round(rowH * 0.7 - v * rowH * 0.35)));
    const lo = prev < 0 ? y : Math.min(prev, y), hi = prev < 0 ? y : Math.max(prev, y);
    for (let yy = lo; yy <= hi; yy++) { const i = ((r * rowH + yy) * W + x) * 3; img[i] = 0; img[i + 1] = 0; img[i + 2] = 0; }
    prev = y;
  }
  for (let x = 0; x < W; x++) { const i = ((r * rowH) * W + x) * 3; img[i] = 200; img[i+1]=200; img[i+2]=255; }
  console.log(r, ecgClassNames[set.dataset.targets[0]!.data[n]!], set.scenes[n]!.map(b => `${b.kind[0]}${b.time.toFixed(2)}`).join(" "));
});
writeFileSync("/tmp/ecg/ecg.png", encode({ width: W, height: H, data: img, channels: 3 }));
