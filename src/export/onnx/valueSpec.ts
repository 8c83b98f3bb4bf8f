/**
 * The description of a graph input or output, free of the ONNX protobuf types (so the public
 * declarations of the tensor contract do not pull in onnx-proto's, which need `long`'s types).
 */

/** Element types the exported graphs use. */
export type OnnxElemType = 'float32' | 'int64' | 'float64' | 'bool';

/** A graph input or output: name, element type and shape (numbers or symbolic dimension names). */
export interface ValueSpec {
  name: string;
  type: OnnxElemType;
  shape: (number | string)[];
  doc?: string;
}
