// Types for the part of convnetjs 0.3.0 the benchmark uses: the package ships none.
declare module "convnetjs" {
  namespace convnetjs {
    /** A volume `sx × sy × depth`, stored as `w[((sx * y) + x) * depth + d]`. */
    class Vol {
      constructor(sx: number, sy: number, depth: number, c?: number);
      w: Float64Array;
    }
    /** `{ type: "conv", sx, filters, stride, pad, activation }` and the like. */
    type LayerDef = { type: string } & Record<string, string | number>;
    class Net {
      makeLayers(defs: LayerDef[]): void;
      forward(volume: Vol, isTraining?: boolean): Vol;
    }
    interface TrainerOptions {
      method?: "sgd" | "adagrad" | "adadelta" | "windowgrad";
      learning_rate?: number;
      momentum?: number;
      batch_size?: number;
      l2_decay?: number;
    }
    /** Trains one sample per call, updating the weights every `batch_size` calls. */
    class Trainer {
      constructor(net: Net, options: TrainerOptions);
      train(x: Vol, y: number): { loss: number };
    }
  }
  export = convnetjs;
}
