import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { ReindexSummary } from '../src/serve/app.js';
import { singleUpdates, watchForUpdates } from '../src/serve/server.js';
import type { CorpusWatcher } from '../src/serve/watch.js';
import { copyOfSeedIndex, copyOfSeeds, until } from './helpers.js';

/** Waits for a condition of the test's own state. */
const waitFor = (check: () => boolean, what: string) => until(check, Boolean, { waitingFor: what, timeoutMs: 10_000, intervalMs: 10 });

const watchers: CorpusWatcher[] = [];
afterAll(() => Promise.all(watchers.map((w) => w.close())));

describe('the watcher and a running update', () => {
  it('gives changes made during an update one more update after it, and only one', async () => {
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: copyOfSeedIndex(), server: { watchDebounceMs: 50 } });
    const log: string[] = [];
    // The real watcher and the real one-at-a-time rule; each update is held open until the test lets it finish.
    const finish: Array<() => void> = [];
    const updates = singleUpdates(config, (line) => log.push(line), () =>
      new Promise<ReindexSummary>((resolve) => {
        const n = finish.length + 1;
        finish.push(() => resolve({ index: `index-${n}`, documents: 4 + n, embedded: n, ms: 5, changes: { added: { count: n, first: [] }, changed: { count: 0, first: [] }, removed: { count: 0, first: [] } } } as unknown as ReindexSummary));
      }),
    );
    watchers.push(await watchForUpdates(config, updates, (line) => log.push(line), () => 'serving'));
    expect(finish).toHaveLength(0); // the corpus matches the index: no update at start

    writeFileSync(join(config.corpusDir, 'first.md'), '# First\n\nA change that starts an update.');
    await waitFor(() => finish.length === 1, 'the first update');
    // Two changes while it runs: the watcher sees them (it says so once) and the update is not started again.
    writeFileSync(join(config.corpusDir, 'second.md'), '# Second\n\nA change made during the update.');
    await waitFor(() => log.some((l) => l.startsWith('Watch: files changed during the update')), 'the watcher to see the second change');
    writeFileSync(join(config.corpusDir, 'third.md'), '# Third\n\nAnother change during the update.');
    await new Promise((r) => setTimeout(r, 300));
    expect(finish).toHaveLength(1);

    finish[0]();
    await waitFor(() => finish.length === 2, 'the update that follows');
    finish[1]();
    await waitFor(() => log.filter((l) => l.startsWith('Watch: ')).length === 3, 'the second update to be logged');
    await new Promise((r) => setTimeout(r, 300));
    expect(finish).toHaveLength(2);
    expect(log.filter((l) => l.startsWith('Watch: files changed during the update'))).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('Updating the index from '))).toHaveLength(2);
    expect(log.filter((l) => /^Watch: \d+ added/.test(l))).toEqual([expect.stringMatching(/^Watch: 1 added.*index-1/), expect.stringMatching(/^Watch: 2 added.*index-2/)]);
  });
});
