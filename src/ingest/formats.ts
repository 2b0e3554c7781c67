import mammoth from 'mammoth';
import { cleanText } from './clean.js';
import { UnreadableFileError, type ExtractedText } from './extracted.js';
import { extractHtml } from './html.js';
import { lineJoiner } from './lines.js';
import { UnreadableImageError, type OcrReader } from './ocr.js';
import { extractPdf } from './pdf/index.js';

export { UnreadableFileError, type ExtractedText } from './extracted.js';

type Extractor = (bytes: Uint8Array, ocr: OcrReader | null) => Promise<ExtractedText>;

const EXTRACTORS: Record<string, Extractor> = {
  '.txt': async (bytes) => ({ text: cleanText(decodeUtf8(bytes)) }),
  '.md': async (bytes) => ({ text: cleanText(decodeUtf8(bytes)) }),
  '.pdf': extractPdf,
  '.html': async (bytes) => extractHtml(decodeUtf8(bytes)),
  '.htm': async (bytes) => extractHtml(decodeUtf8(bytes)),
  '.docx': extractDocx,
  '.png': extractImage,
  '.jpg': extractImage,
  '.jpeg': extractImage,
  '.tif': extractImage,
  '.tiff': extractImage,
};

export const SUPPORTED_EXTENSIONS = Object.keys(EXTRACTORS);

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot).toLowerCase() : '';
}

/**
 * Clean text of a file by its extension; throws UnreadableFileError saying why it cannot be read.
 * Scanned pages and images are read by `ocr` (none: they are skipped, saying OCR is off).
 */
export async function extractFile(name: string, bytes: Uint8Array, ocr: OcrReader | null = null): Promise<ExtractedText> {
  const extractor = EXTRACTORS[extensionOf(name)];
  if (!extractor) throw new UnreadableFileError(`unsupported file type (supported: ${SUPPORTED_EXTENSIONS.join(', ')})`);
  const extracted = await extractor(bytes, ocr);
  if (!extracted.text) throw new UnreadableFileError('no text after cleaning (empty file?)');
  return extracted;
}

function decodeUtf8(bytes: Uint8Array): string {
  // A NUL byte never occurs in text; its presence means a binary file with a text extension.
  if (bytes.includes(0)) throw new UnreadableFileError('binary data, not text (it contains NUL bytes)');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UnreadableFileError('not valid UTF-8 text; re-save it as UTF-8');
  }
}

/** Word documents: the paragraphs' text (mammoth), without styling. */
async function extractDocx(bytes: Uint8Array): Promise<ExtractedText> {
  try {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    return { text: cleanText(value) };
  } catch (e) {
    throw new UnreadableFileError(`not a readable Word document (${(e as Error).message})`);
  }
}

/** The first bytes of PNG, JPEG and TIFF (both byte orders) files. */
const IMAGE_SIGNATURES = [[0x89, 0x50, 0x4e, 0x47], [0xff, 0xd8, 0xff], [0x49, 0x49, 0x2a, 0x00], [0x4d, 0x4d, 0x00, 0x2a]];

/** An image (a scanned page, a photographed letter): one page, read by OCR. */
async function extractImage(bytes: Uint8Array, ocr: OcrReader | null): Promise<ExtractedText> {
  if (!ocr) throw new UnreadableFileError('an image, and OCR is off (set ingest.ocr to true to read it)');
  if (!IMAGE_SIGNATURES.some((signature) => signature.every((byte, i) => bytes[i] === byte))) throw new UnreadableFileError('not a readable image (its bytes are not a PNG, JPEG or TIFF image)');
  let page;
  try {
    page = await ocr.read(bytes);
  } catch (e) {
    if (e instanceof UnreadableImageError) throw new UnreadableFileError(`not a readable image (${e.message})`);
    throw e;
  }
  if (!page.paragraphs.length) throw new UnreadableFileError(`OCR found no text in the image${page.confidence > 0 ? ` (confidence ${Math.round(page.confidence)})` : ''}`);
  const { join } = lineJoiner(page.paragraphs.flat());
  return { text: cleanText(page.paragraphs.map(join).join('\n\n')), pageStarts: [0], ocrPages: [{ page: 1, confidence: Math.round(page.confidence) }] };
}
