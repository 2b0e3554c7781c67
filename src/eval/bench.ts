import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where benchmark data is looked for: the file or folder named by the environment variable
 * `envName`, else `../shared/bench/<path>` beside the checkout; null when neither is there
 * (`present` says what "there" means: by default, that the path exists).
 */
export function locateBench(root: string, envName: string, path: string, present: (found: string) => boolean = existsSync): string | null {
  const candidates = [process.env[envName], resolve(root, '..', 'shared', 'bench', path)].filter((f): f is string => !!f);
  return candidates.find(present) ?? null;
}

/**
 * Writes a benchmark as an ordinary corpus folder (`files`: file name -> text), so it is indexed
 * by exactly the code any archive goes through. Skips the work when the folder already holds these
 * files (a stamp of their sha256 in .source-sha256); otherwise the folder is replaced whole.
 */
export function materializeCorpus(corpusDir: string, files: Map<string, string>): void {
  const stamp = createHash('sha256').update(JSON.stringify([...files])).digest('hex');
  const stampFile = join(corpusDir, '.source-sha256');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  rmSync(corpusDir, { recursive: true, force: true });
  mkdirSync(corpusDir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(corpusDir, name), text);
  writeFileSync(stampFile, stamp);
}
