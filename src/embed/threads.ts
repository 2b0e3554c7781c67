import ort from 'onnxruntime-node';

/**
 * How many threads onnxruntime gives each inference in this process. Its default is one per core,
 * which is right for one process; the server's workers (src/serve/cluster.ts) each take their
 * share of the cores instead, so two workers on two cores run two inferences side by side rather
 * than four threads contending for two cores. transformers.js creates its sessions without
 * options, so the count is added where every session is created.
 */
let threads: number | null = null;

const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (...args: unknown[]) => Promise<ort.InferenceSession>;
(ort.InferenceSession as { create: unknown }).create = (...args: unknown[]) => {
  if (threads === null) return create(...args);
  // create(source, options?) or create(buffer, byteOffset, byteLength?, options?): options come last, if at all.
  const last = args.at(-1);
  const hasOptions = typeof last === 'object' && last !== null && !(last instanceof Uint8Array) && !(last instanceof ArrayBuffer);
  const options = { ...(hasOptions ? (last as ort.InferenceSession.SessionOptions) : {}), intraOpNumThreads: threads, interOpNumThreads: 1 };
  return create(...(hasOptions ? args.slice(0, -1) : args), options);
};

/** Sessions created from now on run each inference on `count` threads. */
export function setInferenceThreads(count: number): void {
  threads = count;
}
