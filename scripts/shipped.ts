import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Writes a trained model's file, or with `check` compares what it would write with the file already
 * there and exits 1 on the first line that differs: a shipped model must come out byte for byte the
 * same from its command and data.
 */
export function writeOrCheck(file: string, text: string, options: { check?: boolean; root: string; started: number; log: (message: string) => void }): void {
  const seconds = () => Math.round((Date.now() - options.started) / 1000);
  if (!options.check) {
    writeFileSync(file, text);
    options.log(`model written to ${file} in ${seconds()} s`);
    return;
  }
  const [made, shipped] = [text.split('\n'), readFileSync(file, 'utf8').split('\n')];
  const line = made.findIndex((l, i) => l !== shipped[i]);
  if (line < 0 && made.length === shipped.length) {
    options.log(`reproduced ${relative(options.root, file)} byte for byte in ${seconds()} s`);
    return;
  }
  const at = line < 0 ? Math.min(made.length, shipped.length) : line;
  options.log(`the trained model differs from ${file} at line ${at + 1}:\n  trained: ${made[at]}\n  shipped: ${shipped[at]}`);
  process.exit(1);
}
