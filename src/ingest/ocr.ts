import { availableParallelism } from 'node:os';
import eng from '@tesseract.js-data/eng';
import { createScheduler, createWorker, type Scheduler } from 'tesseract.js';

/**
 * Reading text from images: tesseract.js (Tesseract compiled to WebAssembly) in worker threads,
 * one per core, with the English model that ships inside @tesseract.js-data/eng (nothing is
 * downloaded). Workers start on the first page that needs them and stop with close().
 */
export interface OcrPage {
  /** Paragraphs as Tesseract lays them out, each a list of lines; none when Tesseract read shapes, not words. */
  paragraphs: string[][];
  /** Tesseract's mean word confidence for the page, 0 to 100. */
  confidence: number;
}

export interface OcrReader {
  read(image: Uint8Array): Promise<OcrPage>;
  close(): Promise<void>;
}

/** Below this mean confidence Tesseract has read shapes, not words: a photograph or a drawing, taken as no text. */
const NO_TEXT_CONFIDENCE = 20;

/** Thrown for an image Tesseract cannot decode (a corrupt or unsupported file). */
export class UnreadableImageError extends Error {}

interface TesseractBlock {
  paragraphs: Array<{ lines: Array<{ text: string }> }>;
}

export function createOcrReader(onProgress?: (done: number, queued: number) => void, workers = Math.max(1, Math.min(4, availableParallelism()))): OcrReader {
  let scheduler: Promise<Scheduler> | null = null;
  const counts = { done: 0, queued: 0 };
  const start = async () => {
    const s = createScheduler();
    const started = await Promise.all(Array.from({ length: workers }, () => createWorker('eng', 1, { langPath: eng.langPath, gzip: eng.gzip, cacheMethod: 'none', errorHandler: () => {} })));
    for (const w of started) s.addWorker(w);
    return s;
  };
  return {
    async read(image) {
      scheduler ??= start();
      counts.queued++;
      onProgress?.(counts.done, counts.queued);
      try {
        const { data } = await (await scheduler).addJob('recognize', Buffer.from(image), {}, { blocks: true, text: false });
        const blocks = (data.blocks ?? []) as TesseractBlock[];
        const paragraphs = blocks.flatMap((b) => b.paragraphs.map((p) => p.lines.map((l) => l.text.replace(/\s+/g, ' ').trim()).filter(Boolean))).filter((p) => p.length);
        return { paragraphs: data.confidence < NO_TEXT_CONFIDENCE ? [] : paragraphs, confidence: data.confidence };
      } catch {
        throw new UnreadableImageError('the image is damaged or in a form Tesseract cannot decode');
      } finally {
        counts.done++;
        onProgress?.(counts.done, counts.queued);
      }
    },
    async close() {
      if (scheduler) await (await scheduler).terminate();
      scheduler = null;
    },
  };
}
