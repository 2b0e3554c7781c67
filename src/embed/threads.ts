import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';

const { onnx } = onnxProto;

/**
 * How many threads onnxruntime gives each inference in this process. Its default is one per core,
 * which suits large products (training's, which keep it: createDenseOps({ everyCore })); a search's
 * inferences are small (one question, a few sentences), and a pool thread mostly busy-waits
 * between them, on the core another search or another worker needs. So the commands that answer
 * questions (src/cli/main.ts) run every inference on one thread. Measured: one serving process
 * 45-48 SciFact searches a second with onnxruntime's default, 56-59 on one thread; a 100-query
 * batch 0.79x the time; the built-in model embeds passages as fast on one thread.
 *
 * onnxruntime-node 1.14's binding (the one transformers.js 2.17 runs on) drops `intraOpNumThreads`
 * (measured: its session has the same pool thread whatever the option, busy-waiting after every
 * call). onnxruntime itself reads a session's threads from the model's `ort_config` metadata when
 * ORT_LOAD_CONFIG_FROM_MODEL=1, so the count travels inside the model bytes of every session this
 * process creates, transformers.js's included.
 */
let threads: number | null = null;

/** `model` with its session options in its metadata. */
function withThreadConfig(model: Uint8Array, count: number): Uint8Array {
  const config = { session_options: { intra_op_num_threads: count, inter_op_num_threads: 1 } };
  const extra = onnx.ModelProto.encode(onnx.ModelProto.create({ metadataProps: [{ key: 'ort_config', value: JSON.stringify(config) }] })).finish();
  // Protobuf lets later bytes add to a repeated field (metadata_props), so even a large model
  // is extended without decoding it; a key given twice takes its last value.
  const out = new Uint8Array(model.byteLength + extra.byteLength);
  out.set(model);
  out.set(extra, model.byteLength);
  return out;
}

const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (...args: unknown[]) => Promise<ort.InferenceSession>;

/** A session on onnxruntime's own threads (one per core) whatever this process's setting: for training's large products. */
export const createSessionOnAllCores = (model: Uint8Array, options: ort.InferenceSession.SessionOptions) => create(model, options);

(ort.InferenceSession as { create: unknown }).create = (...args: unknown[]) => {
  if (threads === null) return create(...args);
  // create(path | bytes, options?) or create(buffer, byteOffset, byteLength?, options?).
  const [source, offset, length] = args;
  const options = args.find((a, i) => i > 0 && typeof a === 'object' && a !== null);
  const bytes =
    typeof source === 'string'
      ? new Uint8Array(readFileSync(source))
      : source instanceof Uint8Array
        ? source
        : new Uint8Array(source as ArrayBuffer, typeof offset === 'number' ? offset : 0, typeof length === 'number' ? length : undefined);
  return create(withThreadConfig(bytes, threads), ...(options ? [options] : []));
};

/** Sessions created from now on run each inference on `count` threads. */
export function setInferenceThreads(count: number): void {
  threads = count;
  process.env.ORT_LOAD_CONFIG_FROM_MODEL = '1';
}
