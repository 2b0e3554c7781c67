import { DataType as T, encodeModel, floatTensor, onnx, valueInfo, type Attribute } from '../../onnx.js';
import { MATCH_FEATURES } from './tokens.js';

const A = onnx.AttributeProto.AttributeType;

/**
 * The reader's comparisons as an ONNX graph, run by onnxruntime over every candidate of a question
 * at once: its SIMD matrix kernels read a question's 20 to 30 passages in the time the same loops
 * in JavaScript took for three. It is AnswerReader's computation (train/network.ts is the same in
 * TensorFlow.js; the shipped checks hold all three together). What is per question or per word
 * stays in JavaScript, once: the word states (cached across questions), the question's own parts,
 * its word importance and summary (folded into the hidden bias), and how each question word
 * matches each distinct word read (string comparisons).
 *
 * Inputs, for U distinct words (row 0: padding, all zeros), m question words, C candidates of at
 * most N sentence words and K context words:
 *   words [U, d], wordsAligned / wordsContext / wordsSentence [U, h] (a word's parts of the comparisons),
 *   match [U, m, 3] (each word against each question word),
 *   questionT [d, m], sentenceOwn / contextOwn / questionAligned [m, h], importance [1, m], hiddenBias [g],
 *   sentenceIds [C, N] and contextIds [C, K] (int32 rows of the tables; 0 pads),
 *   sentencePenalty [C, N] and contextPenalty [C, K] (0 on a word, -1e9 on padding), sentenceMask [C, N, 1], sentenceLength [C, 1].
 * Output: scores [C].
 */
export function encodeReaderGraph(weights: Record<string, Float32Array>, dims: { d: number; h: number; g: number }): Uint8Array {
  const { d, h, g } = dims;
  const initializer: Array<ReturnType<typeof floatTensor>> = [];
  const constant = (name: string, values: Float32Array, shape: number[]) => {
    initializer.push(floatTensor(name, values, shape));
    return name;
  };
  const axes = (name: string, values: number[]) => {
    initializer.push(onnx.TensorProto.create({ name, dataType: T.INT64, dims: [values.length], int64Data: values }));
    return name;
  };
  const nodes: Array<ReturnType<typeof onnx.NodeProto.create>> = [];
  let counter = 0;
  /** One node; returns its output's name. */
  const op = (opType: string, inputs: string[], attribute: Attribute[] = []) => {
    const output = `${opType.toLowerCase()}_${counter++}`;
    nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], attribute }));
    return output;
  };
  const int = (name: string, i: number) => ({ name, type: A.INT, i });
  const ints = (name: string, values: number[]) => ({ name, type: A.INTS, ints: values });
  const gather = (table: string, ids: string) => op('Gather', [table, ids], [int('axis', 0)]);
  const reduceMax = (x: string, axis: number) => op('ReduceMax', [x], [ints('axes', [axis]), int('keepdims', 0)]);
  const add = (...xs: string[]) => xs.reduce((a, b) => op('Add', [a, b]));

  const last = axes('last', [-1]);
  const second = axes('second', [1]);

  /**
   * Each question word against the words of one side (the sentence, or its context) aligned to it:
   * attention over the side's words biased by how they match, the comparisons v [C, m, h] and
   * their pooling by the question words' importance. Also returns the alignment scores, [C, N, m].
   */
  const compareQuestion = (ids: string, penalty: string, parts: string, matchWeights: string, own: string, matchKernel: string) => {
    const words = gather('words', ids);
    const match = gather('match', ids);
    const scores = add(op('MatMul', [words, 'questionT']), op('Squeeze', [op('MatMul', [match, constant(`${matchWeights}W`, weights[matchWeights], [MATCH_FEATURES, 1])]), last]));
    const rows = add(op('Transpose', [scores], [ints('perm', [0, 2, 1])]), op('Unsqueeze', [penalty, second]));
    const aligned = op('MatMul', [op('Softmax', [rows], [int('axis', 2)]), gather(parts, ids)]);
    const best = op('MatMul', [reduceMax(match, 1), constant(matchKernel, weights[matchKernel], [MATCH_FEATURES, h])]);
    const v = op('Relu', [add(aligned, best, own)]);
    return { scores, match, v, pooled: op('Squeeze', [op('MatMul', ['importance', v]), second]) };
  };
  const sentence = compareQuestion('sentenceIds', 'sentencePenalty', 'wordsAligned', 'sentenceMatch', 'sentenceOwn', 'questionMatch');
  const context = compareQuestion('contextIds', 'contextPenalty', 'wordsContext', 'contextMatch', 'contextOwn', 'contextMatchKernel');

  // Each sentence word against the question words aligned to it, pooled by max and by mean over the sentence's words.
  const fromQuestion = op('MatMul', [op('Softmax', [sentence.scores], [int('axis', 2)]), 'questionAligned']);
  const matched = op('MatMul', [reduceMax(sentence.match, 2), constant('sentenceMatchKernel', weights.sentenceMatchKernel, [MATCH_FEATURES, h])]);
  const z = op('Mul', [op('Relu', [add(fromQuestion, matched, gather('wordsSentence', 'sentenceIds'), constant('sentenceBias', weights.sentenceBias, [h]))]), 'sentenceMask']);
  const zMean = op('Div', [op('ReduceSum', [z, second], [int('keepdims', 0)]), 'sentenceLength']);

  // Only what the score reads is computed: onnxruntime 1.14 lets an unread node's output overwrite
  // another's from one run to the next (measured: a second run scored otherwise than the first).
  const features = op('Concat', [sentence.pooled, reduceMax(sentence.v, 1), context.pooled, reduceMax(z, 1), zMean], [int('axis', 1)]);
  // The question's summary's part of the hidden layer (kernel rows 5h onward) is in hiddenBias.
  const hidden = op('Relu', [add(op('MatMul', [features, constant('hiddenKernel', weights.hiddenKernel.subarray(0, 5 * h * g), [5 * h, g])]), 'hiddenBias')]);
  const scores = add(op('MatMul', [hidden, constant('outputKernel', weights.outputKernel, [g, 1])]), constant('outputBias', weights.outputBias, [1]));
  nodes.push(onnx.NodeProto.create({ opType: 'Squeeze', input: [scores, last], output: ['scores'] }));

  const graph = onnx.GraphProto.create({
    name: 'answer_reader',
    initializer,
    node: nodes,
    input: [
      valueInfo('words', T.FLOAT, 'U', d),
      valueInfo('wordsAligned', T.FLOAT, 'U', h),
      valueInfo('wordsContext', T.FLOAT, 'U', h),
      valueInfo('wordsSentence', T.FLOAT, 'U', h),
      valueInfo('match', T.FLOAT, 'U', 'm', MATCH_FEATURES),
      valueInfo('questionT', T.FLOAT, d, 'm'),
      valueInfo('sentenceOwn', T.FLOAT, 'm', h),
      valueInfo('contextOwn', T.FLOAT, 'm', h),
      valueInfo('questionAligned', T.FLOAT, 'm', h),
      valueInfo('importance', T.FLOAT, 1, 'm'),
      valueInfo('hiddenBias', T.FLOAT, g),
      valueInfo('sentenceIds', T.INT32, 'C', 'N'),
      valueInfo('sentencePenalty', T.FLOAT, 'C', 'N'),
      valueInfo('sentenceMask', T.FLOAT, 'C', 'N', 1),
      valueInfo('sentenceLength', T.FLOAT, 'C', 1),
      valueInfo('contextIds', T.INT32, 'C', 'K'),
      valueInfo('contextPenalty', T.FLOAT, 'C', 'K'),
    ],
    output: [valueInfo('scores', T.FLOAT, 'C')],
  });
  return encodeModel(graph);
}

/**
 * The states of a batch of words as an ONNX graph: t = tanh(input · embedKernel + functionWords[id]
 * + embedBias), and t's parts of the comparisons (t · questionAligned | contextAligned |
 * sentenceKernel). A question's new words (hundreds, for passages not read before) go through it
 * in one run; each word's state is then cached.
 * Inputs: inputs [B, v + flags] (tokenInput), functionIds [B] (int32). Outputs: states [B, d], parts [B, 3h].
 */
export function encodeWordStateGraph(weights: Record<string, Float32Array>, dims: { d: number; h: number; inputWidth: number; functionRows: number }): Uint8Array {
  const { d, h, inputWidth, functionRows } = dims;
  // The three kernels side by side, so one product gives all three parts.
  const partsKernel = new Float32Array(d * 3 * h);
  for (let r = 0; r < d; r++) ['questionAligned', 'contextAligned', 'sentenceKernel'].forEach((name, k) => partsKernel.set(weights[name].subarray(r * h, (r + 1) * h), r * 3 * h + k * h));
  const node = (opType: string, input: string[], output: string, attribute: Attribute[] = []) => onnx.NodeProto.create({ opType, input, output: [output], attribute });
  const graph = onnx.GraphProto.create({
    name: 'answer_reader_word_states',
    initializer: [floatTensor('embedKernel', weights.embedKernel, [inputWidth, d]), floatTensor('functionWords', weights.functionWords, [functionRows, d]), floatTensor('embedBias', weights.embedBias, [d]), floatTensor('partsKernel', partsKernel, [d, 3 * h])],
    node: [
      node('MatMul', ['inputs', 'embedKernel'], 'embedded'),
      node('Gather', ['functionWords', 'functionIds'], 'functionRows', [{ name: 'axis', type: A.INT, i: 0 }]),
      node('Add', ['embedded', 'functionRows'], 'summed'),
      node('Add', ['summed', 'embedBias'], 'biased'),
      node('Tanh', ['biased'], 'states'),
      node('MatMul', ['states', 'partsKernel'], 'parts'),
    ],
    input: [valueInfo('inputs', T.FLOAT, 'B', inputWidth), valueInfo('functionIds', T.INT32, 'B')],
    output: [valueInfo('states', T.FLOAT, 'B', d), valueInfo('parts', T.FLOAT, 'B', 3 * h)],
  });
  return encodeModel(graph);
}
