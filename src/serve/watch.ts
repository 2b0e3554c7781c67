import { basename, relative, resolve, sep } from 'node:path';
import { watch } from 'chokidar';

export interface CorpusWatcher {
  /** Resolves once the folder has been scanned: a change made before then may be taken for a file that was there. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Calls `onChange` once the corpus folder has been quiet for `debounceMs` after files were added,
 * changed or removed (a copy of many files is one update, not one per file). Hidden files are
 * ignored, as the build ignores them, and so is the index folder when it lies inside the corpus.
 */
export function watchCorpus(corpusDir: string, options: { debounceMs: number; ignore?: string[] }, onChange: () => void): CorpusWatcher {
  const ignored = (options.ignore ?? []).map((dir) => resolve(dir));
  const inside = (path: string, dir: string) => {
    const rel = relative(dir, path);
    return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
  };
  const watcher = watch(corpusDir, {
    ignoreInitial: true,
    followSymlinks: true,
    ignored: (path: string) => (basename(path).startsWith('.') && resolve(path) !== resolve(corpusDir)) || ignored.some((dir) => inside(resolve(path), dir)),
  });
  let timer: NodeJS.Timeout | null = null;
  watcher.on('all', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, options.debounceMs);
  });
  return {
    ready: new Promise((resolve) => watcher.once('ready', () => resolve())),
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
