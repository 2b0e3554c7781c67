import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that take minutes (measured: 1.5 to 3 minutes each), started first so the two files
 * running at a time finish near together. Vitest's own order runs the longest first by its cache of
 * earlier runs, but a fresh clone (CI) has no cache and runs larger files first: wikiqa.test.ts, a
 * small file that runs for three minutes, then came last and ran alone (CI's tests: 927 s).
 */
const SLOW = ['wikiqa', 'store', 'crash', 'archives', 'cli', 'model'];

export default class SlowFilesFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const i = SLOW.findIndex((name) => file.moduleId.endsWith(`/tests/${name}.test.ts`));
      return i < 0 ? SLOW.length : i;
    };
    return sorted.map((file, order) => ({ file, order })).sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order).map(({ file }) => file);
  }
}
