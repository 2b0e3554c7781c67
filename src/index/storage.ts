import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';

/**
 * Writes a file so that readers see either the old content or the new, never a part: write a
 * temporary file, flush, rename. `data` may come in parts, each written from its own memory (a
 * million vectors need not be copied into one buffer first).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Uint8Array[]): void {
  const parts = typeof data === 'string' ? [Buffer.from(data)] : Array.isArray(data) ? data : [data];
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const part of parts) for (let done = 0; done < part.length; ) done += writeSync(fd, part, done, part.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** A file's size and sha256, read a few megabytes at a time (an index's files need not fit in memory twice). */
export function fileChecksum(file: string): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = openSync(file, 'r');
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, bytes)) > 0; bytes += n) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest('hex') };
}
