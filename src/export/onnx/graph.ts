/**
 * A small ONNX graph builder over the protobuf schema of the `onnx-proto` package (protobufjs
 * classes generated from the official onnx.proto): nodes, initializers (from tf variables or
 * constants), graph inputs/outputs with symbolic dimensions, and the final ModelProto bytes.
 *
 * Values are referred to by name (string). Every helper returns the name of its output.
 * Opset 17 conventions: ReduceSum/Unsqueeze/Squeeze/Split take axes/sizes as inputs;
 * ReduceMean/ReduceMax/ReduceMin take `axes` as an attribute.
 */
import onnxProto from 'onnx-proto';
import type { tf } from '../../engine/tf.js';

const { onnx } = onnxProto;

/** The ONNX opset the exporter writes (onnxruntime ≥ 1.14 runs it). */
export const ONNX_OPSET = 17;
/** IR version 8 (ONNX 1.10–1.12; opset 17 models load with it). */
export const ONNX_IR_VERSION = 8;

import type { OnnxElemType, ValueSpec } from './valueSpec.js';
export type { OnnxElemType, ValueSpec } from './valueSpec.js';

const DATA_TYPE: Record<OnnxElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  float64: onnx.TensorProto.DataType.DOUBLE,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** An attribute value: number (int when integral and `ints` not forced), number[], string, tensor. */
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { tensor: onnxProto.onnx.ITensorProto };


export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  /** Constant cache: one initializer per distinct small constant. */
  private readonly constants = new Map<string, string>();

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.used.has(name)) name = `${prefix}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  /** Declare a graph input. */
  input(spec: ValueSpec): string {
    this.used.add(spec.name);
    this.inputs.push(valueInfo(spec));
    return spec.name;
  }

  /** Declare `value` as the graph output `spec.name` (an Identity node renames it). */
  output(value: string, spec: ValueSpec): void {
    this.used.add(spec.name);
    this.nodes.push({ opType: 'Identity', input: [value], output: [spec.name], name: `out_${spec.name}` });
    this.outputs.push(valueInfo(spec));
  }

  /** A float32 initializer from a tf tensor (its current values), named after it. */
  weight(t: tf.Tensor, name?: string): string {
    const data = t.dataSync() as Float32Array;
    return this.tensor(Float32Array.from(data), t.shape, 'float32', name ?? (t as tf.Tensor & { name?: string }).name ?? 'w');
  }

  /** An initializer from raw values. */
  tensor(values: ArrayLike<number>, dims: number[], type: OnnxElemType = 'float32', name = 'const'): string {
    const n = name.replace(/[^A-Za-z0-9_.\-/]/g, '_');
    const id = this.used.has(n) ? this.fresh(n) : (this.used.add(n), n);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`initializer ${name}: ${values.length} values for dims [${dims}]`);
    let raw: Uint8Array;
    switch (type) {
      case 'float32':
        raw = new Uint8Array(Float32Array.from(values).buffer);
        break;
      case 'float64':
        raw = new Uint8Array(Float64Array.from(values).buffer);
        break;
      case 'int64':
        raw = new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))).buffer);
        break;
      case 'bool':
        raw = Uint8Array.from(values, (v) => (v ? 1 : 0));
        break;
    }
    this.initializers.push({ name: id, dims, dataType: DATA_TYPE[type], rawData: raw });
    return id;
  }

  /** A cached scalar or small constant (shape [] by default). */
  const(values: number | number[], type: OnnxElemType = 'float32', dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `${type}:${shape.join('x')}:${arr.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.tensor(arr, shape, type, type === 'int64' ? 'i64' : 'c');
    this.constants.set(key, name);
    return name;
  }

  /** int64 vector constant (axes, shapes, sizes). */
  ints(values: number[]): string {
    return this.const(values, 'int64', [values.length]);
  }

  /** Add a node; returns its output names (`outputs` of them). */
  nodeN(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: outs[0],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Add a single-output node. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.nodeN(opType, inputs, attrs, 1)[0]!;
  }

  // ---- small helpers (each one ONNX op) ----
  add(a: string, b: string): string {
    return this.node('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.node('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.node('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.node('Div', [a, b]);
  }
  matmul(a: string, b: string): string {
    return this.node('MatMul', [a, b]);
  }
  reshape(x: string, shape: number[]): string {
    return this.node('Reshape', [x, this.ints(shape)]);
  }
  transpose(x: string, perm: number[]): string {
    return this.node('Transpose', [x], { perm });
  }
  concat(xs: string[], axis: number): string {
    return xs.length === 1 ? xs[0]! : this.node('Concat', xs, { axis });
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.node('Unsqueeze', [x, this.ints(axes)]);
  }
  squeeze(x: string, axes: number[]): string {
    return this.node('Squeeze', [x, this.ints(axes)]);
  }
  /** Slice along one axis [start, end). */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.node('Slice', [x, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
  /** Split along `axis` into pieces of the given sizes. */
  split(x: string, axis: number, sizes: number[]): string[] {
    if (sizes.length === 1) return [x];
    return this.nodeN('Split', [x, this.ints(sizes)], { axis }, sizes.length);
  }
  reduceSum(x: string, axes: number[], keepdims = true): string {
    return this.node('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: string, axes: number[], keepdims = true): string {
    return this.node('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceMax(x: string, axes: number[], keepdims = true): string {
    return this.node('ReduceMax', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceMin(x: string, axes: number[], keepdims = true): string {
    return this.node('ReduceMin', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  /** 1.0 where x > 0, else 0.0 (float32). */
  positive(x: string): string {
    return this.node('Cast', [this.node('Greater', [x, this.const(0)])], { to: DATA_TYPE.float32 });
  }
  cast(x: string, to: OnnxElemType): string {
    return this.node('Cast', [x], { to: DATA_TYPE[to] });
  }
  /** 1 − x. */
  oneMinus(x: string): string {
    return this.sub(this.const(1), x);
  }
  softmax(x: string, axis = -1): string {
    return this.node('Softmax', [x], { axis });
  }

  /** Serialise to ModelProto bytes. */
  toBytes(meta: { graphName: string; doc: string; producerVersion: string; metadata: Record<string, string> }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      producerName: 'fleximodal',
      producerVersion: meta.producerVersion,
      docString: meta.doc,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      metadataProps: Object.entries(meta.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    const err = onnx.ModelProto.verify(model);
    if (err) throw new Error(`internal error: invalid ONNX ModelProto (${err})`);
    return onnx.ModelProto.encode(model).finish();
  }

  /** Number of nodes so far (for the export report). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Total number of initializer elements (parameters and constants). */
  get initializerBytes(): number {
    return this.initializers.reduce((a, t) => a + (t.rawData?.length ?? 0), 0);
  }
}

function valueInfo(spec: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: spec.name,
    docString: spec.doc ?? '',
    type: {
      tensorType: {
        elemType: DATA_TYPE[spec.type],
        shape: { dim: spec.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.TENSOR, t: v.tensor };
}
