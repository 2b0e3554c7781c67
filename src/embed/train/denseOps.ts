import ort from 'onnxruntime-node';
import { DataType as T, encodeModel, onnx, valueInfo } from '../../onnx.js';
import { createSessionOnAllCores } from '../threads.js';

/**
 * Dense matrix products for training, run by onnxruntime (already here for inference), whose
 * multi-threaded SIMD kernels do in a fraction of a second what plain JavaScript loops take minutes for.
 */
function matmulGraph(transposeA: boolean): Uint8Array {
  const nodes = transposeA
    ? [
        onnx.NodeProto.create({ opType: 'Transpose', input: ['a'], output: ['at'], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }] }),
        onnx.NodeProto.create({ opType: 'MatMul', input: ['at', 'b'], output: ['c'] }),
      ]
    : [onnx.NodeProto.create({ opType: 'MatMul', input: ['a', 'b'], output: ['c'] })];
  const graph = onnx.GraphProto.create({
    name: transposeA ? 'matmul_tn' : 'matmul',
    node: nodes,
    input: [valueInfo('a', T.FLOAT, 'n', 'k'), transposeA ? valueInfo('b', T.FLOAT, 'n', 'm') : valueInfo('b', T.FLOAT, 'k', 'm')],
    output: [valueInfo('c', T.FLOAT, 'x', 'm')],
  });
  return encodeModel(graph);
}

export interface DenseOps {
  /** (rows x k)ᵀ · (rows x m) -> k x m, all row-major. */
  transposeTimes(a: Float32Array, b: Float32Array, rows: number, k: number, m: number): Promise<Float32Array>;
  /** (rows x k) · (k x m) -> rows x m, all row-major. */
  times(a: Float32Array, b: Float32Array, rows: number, k: number, m: number): Promise<Float32Array>;
}

/**
 * Products on this process's inference threads (the answer step's small ones), or with `everyCore`
 * on onnxruntime's own pool of one thread per core (training's and benchmarks' large ones).
 */
export async function createDenseOps({ everyCore = false }: { everyCore?: boolean } = {}): Promise<DenseOps> {
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' } as const;
  const create = everyCore ? createSessionOnAllCores : (model: Uint8Array, o: typeof options) => ort.InferenceSession.create(model, o);
  const tn = await create(matmulGraph(true), options);
  const nn = await create(matmulGraph(false), options);
  const run = async (session: ort.InferenceSession, a: Float32Array, aDims: number[], b: Float32Array, bDims: number[]) => {
    const out = await session.run({ a: new ort.Tensor('float32', a, aDims), b: new ort.Tensor('float32', b, bDims) });
    return out.c.data as Float32Array;
  };
  return {
    transposeTimes: (a, b, rows, k, m) => run(tn, a, [rows, k], b, [rows, m]),
    times: (a, b, rows, k, m) => run(nn, a, [rows, k], b, [k, m]),
  };
}
