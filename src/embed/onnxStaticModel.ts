import { DataType as T, encodeModel, floatTensor, onnx, valueInfo } from '../onnx.js';

/**
 * Serialises a static embedding model as an ONNX graph:
 * last_hidden_state = Gather(embeddings, input_ids) * attention_mask.
 * Multiplying by the mask keeps padding rows at zero and makes attention_mask a real input,
 * which transformers.js always feeds.
 */
export function encodeStaticEmbeddingOnnx(embeddings: Float32Array, vocabSize: number, dim: number): Uint8Array {
  if (embeddings.length !== vocabSize * dim) throw new Error(`embedding matrix has ${embeddings.length} values, expected ${vocabSize}x${dim}`);
  const graph = onnx.GraphProto.create({
    name: 'static_embedding',
    initializer: [
      floatTensor('embeddings', embeddings, [vocabSize, dim]),
      onnx.TensorProto.create({ name: 'unsqueeze_axes', dataType: T.INT64, dims: [1], int64Data: [-1] }),
    ],
    node: [
      onnx.NodeProto.create({ opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['token_vectors'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }),
      onnx.NodeProto.create({ opType: 'Cast', input: ['attention_mask'], output: ['mask_float'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }] }),
      onnx.NodeProto.create({ opType: 'Unsqueeze', input: ['mask_float', 'unsqueeze_axes'], output: ['mask_3d'] }),
      onnx.NodeProto.create({ opType: 'Mul', input: ['token_vectors', 'mask_3d'], output: ['last_hidden_state'] }),
    ],
    input: [valueInfo('input_ids', T.INT64, 'batch', 'sequence'), valueInfo('attention_mask', T.INT64, 'batch', 'sequence')],
    output: [valueInfo('last_hidden_state', T.FLOAT, 'batch', 'sequence', dim)],
  });
  return encodeModel(graph);
}
