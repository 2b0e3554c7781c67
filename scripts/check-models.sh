#!/usr/bin/env bash
# The shipped answer scorer and short-answer scorer are made again from their commands and data and
# must come out byte for byte the same (a few minutes each; run side by side, they read different
# data). Where the benchmark data is not beside the checkout, says so and checks the other.
set -uo pipefail
cd "$(dirname "$0")/.."
names=()
pids=()
if [ -f ../shared/bench/wikiqa/train.jsonl ] || [ -n "${WIKIQA_FILE:-}" ]; then
  npm run --silent train-answer -- --check >/dev/null &
  names+=(train-answer)
  pids+=($!)
else
  echo "skipped: npm run train-answer -- --check (WikiQA's train.jsonl is not at ../shared/bench/wikiqa/ and WIKIQA_FILE is not set)"
fi
if [ -f ../shared/bench/squad/dev-even-articles.json ] || [ -n "${SQUAD_FILE:-}" ]; then
  npm run --silent train-short -- --check >/dev/null &
  names+=(train-short)
  pids+=($!)
else
  echo "skipped: npm run train-short -- --check (SQuAD's dev-even-articles.json is not at ../shared/bench/squad/ and SQUAD_FILE is not set)"
fi
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "${names[$i]} --check failed: the shipped model is not what its command makes from its data"; failed=1; }
done
exit "$failed"
