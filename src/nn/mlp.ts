/**
 * Multi-layer perceptron: Linear → act → (dropout) → … → Linear. No activation after the last layer.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { ActivationName, activate } from './activations.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

export interface MlpConfig {
  /** Layer widths including input and output: [in, h1, …, out] (at least 2 entries). */
  dims: number[];
  /** Hidden activation. Default 'gelu'. */
  activation?: ActivationName;
  /** Dropout after each hidden activation. Default 0. */
  dropout?: number;
  /** Biases in every layer. Default true. */
  bias?: boolean;
}

/** Variables: `${name}.l0.w`, `${name}.l0.b`, `${name}.l1.w`, … */
export class Mlp {
  readonly name: string;
  readonly layers: Linear[];
  readonly activation: ActivationName;
  private readonly drop: Dropout;

  constructor(name: string, cfg: MlpConfig, rng: Rng) {
    if (cfg.dims.length < 2) {
      throw new FlexiModalError(`MLP '${name}' needs at least [in, out] dims, got [${cfg.dims.join(', ')}]`, {
        where: `layer ${name}`,
        hint: 'give dims as [in, hidden…, out]',
      });
    }
    this.name = name;
    this.activation = cfg.activation ?? 'gelu';
    this.layers = [];
    for (let i = 0; i + 1 < cfg.dims.length; i++) {
      this.layers.push(new Linear(`${name}.l${i}`, { inDim: cfg.dims[i]!, outDim: cfg.dims[i + 1]!, bias: cfg.bias }, rng));
    }
    this.drop = new Dropout(`${name}.drop`, { rate: cfg.dropout ?? 0 }, rng);
  }

  get inDim(): number {
    return this.layers[0]!.inDim;
  }

  get outDim(): number {
    return this.layers[this.layers.length - 1]!.outDim;
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor, training = false): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.apply(h);
        if (i + 1 < this.layers.length) {
          h = activate(this.activation, h);
          h = this.drop.apply(h, training);
        }
      });
      return h;
    });
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables());
  }
}
