/** A cleaned source document. `text` is what every offset and citation points into. */
export interface SourceDocument {
  /** Stable id derived from the file's path. */
  id: string;
  /** Path relative to the corpus folder, with forward slashes. */
  source: string;
  title: string;
  /** ISO date: YYYY, YYYY-MM or YYYY-MM-DD; null when unknown. */
  date: string | null;
  publisher: string | null;
  url: string | null;
  text: string;
  /** For paged formats (PDF): the offset in `text` where each page starts, page 1 first. */
  pageStarts?: number[];
  /** Headings the layout or markup shows, in order (each a paragraph of `text`). */
  headings?: Heading[];
}

/** A heading of a document: its span in the clean text and its level (1 is the largest). */
export interface Heading {
  start: number;
  end: number;
  level: number;
}

/** A passage of a document: `text === document.text.slice(start, end)`. */
export interface Chunk {
  id: number;
  docId: string;
  start: number;
  end: number;
  text: string;
}

export interface Citation {
  docId: string;
  source: string;
  title: string;
  date: string | null;
  /** Page of `start`, for paged formats (PDF); null otherwise. */
  page: number | null;
  start: number;
  end: number;
}

export interface SearchHit extends Citation {
  rank: number;
  score: number;
  text: string;
  /** The headings the passage stands under (PDF layout, HTML markup), outermost first; null when none. */
  section: string | null;
  /** The best-matching sentence, as offsets into the document's clean text. */
  sentence: { start: number; end: number; page: number | null; text: string; score: number };
  scores: { dense: number; bm25: number };
}

export interface Answer {
  text: string;
  score: number;
  /** For a question asking for a fact, the words that are the fact, inside the answering sentence (offsets in the document's clean text); null otherwise. */
  short: { text: string; start: number; end: number } | null;
  /** For a why or how question, up to three more sentences judged to answer, other documents first; empty otherwise. */
  evidence: Array<{ text: string; score: number; citation: Citation }>;
  citation: Citation;
}

export interface SearchFilters {
  docIds?: string[];
  /** Inclusive ISO date bounds (YYYY, YYYY-MM or YYYY-MM-DD). */
  from?: string;
  to?: string;
}

/** Counts by publication period: years, or months when everything counted falls within two years. */
export interface Timeline {
  unit: 'year' | 'month';
  /** Every period from the first to the last that has any, in order (empty ones too, so gaps show). */
  periods: Array<{ period: string; count: number }>;
  /** Items whose document has no date, counted apart. */
  undated: number;
}

export interface SearchResponse {
  query: string;
  answer: Answer | null;
  results: SearchHit[];
  /** The query's matching passages by their documents' publication periods (when asked for). */
  timeline?: Timeline;
  /** Manifest id of the index that answered. */
  index: string;
}
