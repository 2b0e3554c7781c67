import onnxProto from 'onnx-proto';

/**
 * Writing ONNX graphs by hand (the built-in embedding model, training's dense products, the answer
 * reader): the pieces every one of them needs, so each file says only what its graph computes.
 */
export const { onnx } = onnxProto;
export const DataType = onnx.TensorProto.DataType;
export type Attribute = onnxProto.onnx.IAttributeProto;

/** A float32 initializer holding `values` (a view of their bytes: the model is encoded before they could change). */
export function floatTensor(name: string, values: Float32Array, dims: number[]): onnxProto.onnx.ITensorProto {
  return onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}

/** A graph input or output: its element type and shape (numbers are fixed sizes, names symbolic ones). */
export function valueInfo(name: string, elemType: number, ...dims: Array<string | number>): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((n) => (typeof n === 'number' ? { dimValue: n } : { dimParam: n })) } } } };
}

/** A model of one graph (IR 8, opset 13), serialised. */
export function encodeModel(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'semantic-archive', graph })).finish();
}
