import type { Heading } from '../types.js';

export type { Heading } from '../types.js';

/** The clean text of one file, with what the format itself says about it. */
export interface ExtractedText {
  text: string;
  /** Offset in `text` where each page starts (page n at index n - 1); only for paged formats. */
  pageStarts?: number[];
  /** Headings found by layout (PDF) or markup (HTML), in order. */
  headings?: Heading[];
  title?: string;
  /** The date the document states of itself (its cover, "last updated", a dateline tag). */
  date?: string;
  /** The date its file's metadata gives (a PDF's creation date): used only when the text states none. */
  metadataDate?: string;
  /** Pages read by OCR, with Tesseract's mean confidence (0 to 100). */
  ocrPages?: Array<{ page: number; confidence: number }>;
}

/** A file that cannot be indexed, with the reason a person can act on. */
export class UnreadableFileError extends Error {}
