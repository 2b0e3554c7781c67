import { LRUCache } from 'lru-cache';
import type { ArrayRanges } from './binary.js';

/**
 * The clean texts of an index's documents, left in the UTF-8 file they are stored in (text.bin)
 * and read one document at a time when asked for; the most recently asked stay decoded. A loaded
 * index so holds only the texts it is using, instead of a string per document and another per
 * passage.
 */
export class DocumentTexts {
  private readonly decoder = new TextDecoder();
  private readonly decoded: LRUCache<number, string>;

  constructor(
    private readonly bytes: ArrayRanges<Uint8Array>,
    /** Byte offset of each document's text in `bytes`, and of the end: one more than documents. */
    private readonly offsets: Uint32Array,
    capacity = 2000,
  ) {
    this.decoded = new LRUCache({ max: capacity });
  }

  static encode(texts: string[]): { bytes: Uint8Array; offsets: Uint32Array } {
    const encoder = new TextEncoder();
    const parts = texts.map((t) => encoder.encode(t));
    const offsets = new Uint32Array(texts.length + 1);
    parts.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length));
    const bytes = new Uint8Array(offsets[texts.length]);
    parts.forEach((p, i) => bytes.set(p, offsets[i]));
    return { bytes, offsets };
  }

  get count(): number {
    return this.offsets.length - 1;
  }

  text(document: number): string {
    let text = this.decoded.get(document);
    if (text === undefined) {
      text = this.decoder.decode(this.bytes.range(this.offsets[document], this.offsets[document + 1]));
      this.decoded.set(document, text);
    }
    return text;
  }
}
