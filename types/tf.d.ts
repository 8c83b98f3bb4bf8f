/**
 * The PUBLIC declaration of fleximodal's `tf` (dist/src/engine/tf.d.ts in the package; the
 * build writes it over the declaration tsc emits, see scripts/public-types.mjs).
 *
 * tfjs-core's own declarations need the DOM library, WebGPU types and @types/long, so a Node
 * service compiling with `lib: ["ES2022"]` and without `skipLibCheck` fails inside them. The
 * public types therefore never import '@tensorflow/tfjs-core': tensors are described here by the
 * members a caller uses (shape, dtype, data, dispose, ...), and every other tfjs member or op is
 * `any`. For tfjs's exact types, import them yourself (`import type * as tfc from
 * '@tensorflow/tfjs-core'`, with "lib": ["ES2022", "DOM"] and @types/long).
 */
type TypedArray = Float32Array | Int32Array | Uint8Array;

declare namespace tf {
  type DataType = 'float32' | 'int32' | 'bool' | 'complex64' | 'string';
  type Rank = string;
  interface Tensor<R extends Rank = Rank> {
    readonly id: number;
    readonly shape: number[];
    readonly dtype: DataType;
    readonly size: number;
    readonly rank: number;
    readonly isDisposed: boolean;
    dataSync(): TypedArray;
    data(): Promise<TypedArray>;
    arraySync(): any;
    array(): Promise<any>;
    dispose(): void;
    /** Rank marker (types only). */
    readonly __rank?: R;
    /** Chained ops (`x.add(y)`) and the rest of tfjs's Tensor: untyped here. */
    [member: string]: any;
  }
  interface Scalar extends Tensor<'R0'> {}
  interface Tensor1D extends Tensor<'R1'> {}
  interface Tensor2D extends Tensor<'R2'> {}
  interface Tensor3D extends Tensor<'R3'> {}
  interface Tensor4D extends Tensor<'R4'> {}
  interface Variable<R extends Rank = Rank> extends Tensor<R> {
    readonly name: string;
    trainable: boolean;
    assign(value: Tensor<R>): void;
  }
  type TensorContainer = void | Tensor | string | number | boolean | TypedArray | { [key: string]: TensorContainer } | TensorContainer[];
  type NamedTensorMap = { [name: string]: Tensor };
  interface AdamOptimizer {
    [member: string]: any;
  }
  /** tfjs-core's functions: the common ones typed, every other op `any`. */
  interface Api {
    tidy<T extends TensorContainer>(fn: () => T): T;
    tidy<T extends TensorContainer>(name: string, fn: () => T): T;
    dispose(container: TensorContainer): void;
    keep<T extends Tensor>(result: T): T;
    memory(): { numTensors: number; numDataBuffers: number; numBytes: number; unreliable?: boolean };
    getBackend(): string;
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    tensor(values: unknown, shape?: number[], dtype?: DataType): Tensor;
    scalar(value: number | boolean, dtype?: DataType): Scalar;
    tensor1d(values: unknown, dtype?: DataType): Tensor1D;
    tensor2d(values: unknown, shape?: [number, number], dtype?: DataType): Tensor2D;
    tensor3d(values: unknown, shape?: [number, number, number], dtype?: DataType): Tensor3D;
    variable<R extends Rank>(initial: Tensor<R>, trainable?: boolean, name?: string, dtype?: DataType): Variable<R>;
    [op: string]: any;
  }
}
declare const tf: tf.Api;
export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
