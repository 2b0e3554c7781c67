import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './storage.js';
/**
 * A small container for typed arrays on disk: a header that says what wrote the file, then each
 * array's bytes, little-endian and 8-byte aligned, so a reader takes them as views into the one
 * buffer it read (no parsing, no copy).
 *
 *   "ARCB" | u32 version | u32 header length | u32 data start | header (JSON) | padding | array 0 | padding | array 1 ...
 *
 * The header names the file's kind, its own metadata, and each array's type, offset (from the data
 * start) and length. A reader keeps the file open and reads an array whole, or the parts of it it
 * needs when it needs them (BM25 postings per query term, one document's text), so what a loaded
 * index holds in memory is what it uses, not the whole file.
 */

const MAGIC = 0x42435241; // "ARCB", read little-endian
const VERSION = 1;
const ALIGN = 8;

type ArrayType = 'u8' | 'i32' | 'u32' | 'f32' | 'f64';
export type TypedArray = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;

const CONSTRUCTORS = { u8: Uint8Array, i32: Int32Array, u32: Uint32Array, f32: Float32Array, f64: Float64Array } as const;
const typeOf = (a: TypedArray): ArrayType => (a instanceof Uint8Array ? 'u8' : a instanceof Int32Array ? 'i32' : a instanceof Uint32Array ? 'u32' : a instanceof Float32Array ? 'f32' : 'f64');

interface Header {
  kind: string;
  meta: Record<string, unknown>;
  arrays: Record<string, { type: ArrayType; offset: number; length: number }>;
}

const padded = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** What an array file holds: its metadata and its arrays, in order. */
export interface ArrayContent {
  kind: string;
  meta: Record<string, unknown>;
  arrays: Record<string, TypedArray>;
}

/**
 * Writes `content` to `file` atomically, each array straight from its own memory (no copy of the
 * whole file is made: a million vectors are a gigabyte); returns the file's size and sha256, for
 * the manifest.
 */
export function writeArrays(file: string, content: ArrayContent): { bytes: number; sha256: string } {
  const layout: Header['arrays'] = {};
  let size = 0;
  for (const [name, array] of Object.entries(content.arrays)) {
    layout[name] = { type: typeOf(array), offset: size, length: array.length };
    size = padded(size + array.byteLength);
  }
  const header = Buffer.from(JSON.stringify({ kind: content.kind, meta: content.meta, arrays: layout } satisfies Header));
  const dataStart = padded(16 + header.length);
  const prefix = Buffer.alloc(dataStart, 0);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(VERSION, 4);
  prefix.writeUInt32LE(header.length, 8);
  prefix.writeUInt32LE(dataStart, 12);
  header.copy(prefix, 16);
  const parts: Uint8Array[] = [prefix];
  for (const [name, array] of Object.entries(content.arrays)) {
    parts.push(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    const end = layout[name].offset + array.byteLength;
    parts.push(new Uint8Array(padded(end) - end));
  }
  writeFileAtomic(file, parts);
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return { bytes: parts.reduce((sum, p) => sum + p.length, 0), sha256: hash.digest('hex') };
}

/** A part of an array read when asked for: [start, end) in elements. */
export interface ArrayRanges<T extends TypedArray> {
  readonly length: number;
  range(start: number, end: number): T;
}

export interface ArrayFile {
  meta: Record<string, unknown>;
  /** The whole array. */
  read<K extends ArrayType>(name: string, type: K): InstanceType<(typeof CONSTRUCTORS)[K]>;
  /** The array left on disk, read a range at a time. */
  ranges<K extends ArrayType>(name: string, type: K): ArrayRanges<InstanceType<(typeof CONSTRUCTORS)[K]>>;
}

/** An array already in memory, behind the same surface as one left on disk. */
export function inMemory<T extends TypedArray>(array: T): ArrayRanges<T> {
  return { length: array.length, range: (start, end) => array.subarray(start, end) as T };
}

/** Closes a file once nothing can read from it any more (an index swapped out is simply dropped). */
const closeWhenUnreachable = new FinalizationRegistry<number>((fd) => closeSync(fd));

/** Reads exactly `into.byteLength` bytes at `position` (throws when the file ends first). */
function readFully(fd: number, into: TypedArray, position: number, kind: string): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  for (let done = 0; done < bytes.length; ) {
    const n = readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new Error(`${kind} file is cut short`);
    done += n;
  }
}

/** Opens a file written by encodeArrays (throws when it is not one, of `kind`). */
export function openArrays(file: string, kind: string): ArrayFile {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('this machine is big-endian; the index format is little-endian');
  const fd = openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(16);
    if (readSync(fd, prefix, 0, 16, 0) < 16 || prefix.readUInt32LE(0) !== MAGIC) throw new Error(`not a ${kind} file`);
    if (prefix.readUInt32LE(4) !== VERSION) throw new Error(`${kind} file of container version ${prefix.readUInt32LE(4)}, not ${VERSION}`);
    const headerBytes = new Uint8Array(prefix.readUInt32LE(8));
    readFully(fd, headerBytes, 16, kind);
    const header = JSON.parse(new TextDecoder().decode(headerBytes)) as Header;
    if (header.kind !== kind) throw new Error(`a ${header.kind} file, not ${kind}`);
    const dataStart = prefix.readUInt32LE(12);
    // Every array must lie inside the file: a file cut short is refused when opened, not at some later query.
    const size = fstatSync(fd).size;
    for (const a of Object.values(header.arrays)) if (!CONSTRUCTORS[a.type] || dataStart + a.offset + a.length * CONSTRUCTORS[a.type].BYTES_PER_ELEMENT > size) throw new Error(`${kind} file is cut short`);
    const located = (name: string, type: ArrayType) => {
      const a = header.arrays[name];
      if (!a || a.type !== type) throw new Error(`${kind} file has no ${type} array "${name}"`);
      return { Ctor: CONSTRUCTORS[type], position: dataStart + a.offset, length: a.length };
    };
    // Everything that reads goes through `open`, so the descriptor is closed only once no reader is left.
    const open = { fd };
    closeWhenUnreachable.register(open, fd);
    const slice = (Ctor: (typeof CONSTRUCTORS)[ArrayType], position: number, start: number, end: number) => {
      const out = new Ctor(end - start);
      readFully(open.fd, out, position + start * Ctor.BYTES_PER_ELEMENT, kind);
      return out;
    };
    return {
      meta: header.meta,
      read(name, type) {
        const { Ctor, position, length } = located(name, type);
        return slice(Ctor, position, 0, length) as never;
      },
      ranges(name, type) {
        const { Ctor, position, length } = located(name, type);
        return { length, range: (start: number, end: number) => slice(Ctor, position, start, end) } as never;
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
