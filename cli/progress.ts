// A progress bar for each training epoch, on a terminal only: piped output gets the epoch lines alone.
import cliProgress from "cli-progress";
import type { StepProgress } from "../runtime/train-loop.js";
import { formatCount } from "../compiler/units.js";

export interface Progress {
  step(p: StepProgress): void;
  /** Clears the bar (before the epoch's line, or an error) if one is shown. */
  stop(): void;
}

const silent: Progress = { step() {}, stop() {} };

export function progressOn(stream: NodeJS.WriteStream): Progress {
  if (!stream.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        "epoch {epoch} {bar} {value}/{total} steps | loss {loss} | {speed} samples/s | {phase}",
      clearOnComplete: true,
      hideCursor: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  return {
    step(p) {
      const payload = {
        epoch: `${p.epoch}/${p.epochs}`,
        loss: p.loss.toFixed(4),
        speed: formatCount(Math.round(p.samplesPerSecond)),
        // After the last step the epoch's evaluation runs, with no steps to show.
        phase:
          p.step === p.steps
            ? "evaluating"
            : `ETA ${Math.ceil(((p.steps - p.step) * p.seconds) / p.step)} s`,
      };
      if (active) bar.update(p.step, payload);
      else bar.start(p.steps, p.step, payload);
      active = true;
      // Updates are drawn at most a few times a second; the evaluation must show at once.
      if (p.step === p.steps) bar.render();
    },
    stop() {
      if (active) bar.stop();
      active = false;
    },
  };
}
