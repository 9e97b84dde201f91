/**
 * The graph of an .onnx file without its weights. The file is scanned with positioned reads; every large
 * initializer's raw bytes are skipped and replaced by an external-data reference to where they already sit
 * (location = the model file itself, offset = the bytes' position in it). So a derived graph (logit rows,
 * gradients) built from the skeleton is a few megabytes, onnxruntime reads the weights straight from the
 * original file, and JavaScript never holds or re-encodes them. Tensors whose values a rewrite needs (the
 * embedding matrix, small shape constants) are read on demand through `externalBytes`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeModel, type ModelProto, type TensorProto } from './onnxProto';

/** Initializers smaller than this stay inline (shape constants, norms' epsilons): cheap and often read. */
const INLINE_BELOW = 4096;
const CHUNK = 1 << 20;

/** Where an external tensor's bytes are, resolved against the model folder. */
export interface ExternalRef { file: string; offset: number; length: number }

const sources = new WeakMap<TensorProto, ExternalRef>();

/** The external bytes of a tensor the skeleton reader registered, read now (undefined for other tensors). */
export function externalBytes(t: TensorProto): Uint8Array | undefined {
  const ref = sources.get(t);
  if (!ref) return undefined;
  const out = new Uint8Array(ref.length);
  const fd = fs.openSync(ref.file, 'r');
  try {
    for (let done = 0; done < ref.length;) {
      const n = fs.readSync(fd, out, done, ref.length - done, ref.offset + done);
      if (n <= 0) throw new Error(`${ref.file} ends before tensor ${t.name}'s data (offset ${ref.offset}, ${ref.length} bytes).`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export function externalRef(t: TensorProto): ExternalRef | undefined {
  return sources.get(t);
}

/** Reads protobuf wire format from a file through a 1 MiB window; large fields are skipped, not read. */
class FileScanner {
  private buf = Buffer.alloc(CHUNK);
  private start = 0;
  private end = 0;
  pos = 0;
  constructor(private readonly fd: number, readonly size: number) {}

  private fill(need: number): void {
    if (this.pos >= this.start && this.pos + need <= this.end) return;
    if (need > this.buf.length) this.buf = Buffer.alloc(need);
    const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
    this.start = this.pos;
    this.end = this.pos + n;
    if (this.pos + need > this.end) throw new Error('The ONNX file is truncated (a protobuf field runs past its end).');
  }
  byte(): number {
    this.fill(1);
    return this.buf[this.pos++ - this.start];
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new Error('The ONNX file is corrupt (an over-long varint).');
  }
  bytes(n: number): Buffer {
    this.fill(n);
    const out = Buffer.from(this.buf.subarray(this.pos - this.start, this.pos - this.start + n));
    this.pos += n;
    return out;
  }
  skip(n: number): void {
    if (this.pos + n > this.size) throw new Error('The ONNX file is truncated (a tensor runs past its end).');
    this.pos += n;
  }
}

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function lenField(field: number, body: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);
}

/** Copies one field (its tag already read) from the scanner, as bytes. */
function copyField(s: FileScanner, tag: number): Buffer {
  const head = varint(tag);
  switch (tag & 7) {
    case 0: return Buffer.concat([head, varint(s.varint())]);
    case 1: return Buffer.concat([head, s.bytes(8)]);
    case 5: return Buffer.concat([head, s.bytes(4)]);
    case 2: {
      const n = s.varint();
      return Buffer.concat([head, varint(n), s.bytes(n)]);
    }
    default: throw new Error(`The ONNX file is corrupt (protobuf wire type ${tag & 7}).`);
  }
}

function scanTensor(s: FileScanner, length: number, location: string): Buffer {
  const end = s.pos + length;
  const parts: Buffer[] = [];
  let raw: { offset: number; length: number } | undefined;
  while (s.pos < end) {
    const tag = s.varint();
    if (tag === ((9 << 3) | 2)) {
      const n = s.varint();
      raw = { offset: s.pos, length: n };
      s.skip(n);
    } else parts.push(copyField(s, tag));
  }
  if (raw) {
    const entry = (k: string, v: string): Buffer => lenField(13, Buffer.concat([lenField(1, Buffer.from(k)), lenField(2, Buffer.from(v))]));
    parts.push(entry('location', location), entry('offset', String(raw.offset)), entry('length', String(raw.length)));
    parts.push(varint((14 << 3) | 0), varint(1));
  }
  return Buffer.concat(parts);
}

function scanGraph(s: FileScanner, length: number, location: string): Buffer {
  const end = s.pos + length;
  const parts: Buffer[] = [];
  while (s.pos < end) {
    const tag = s.varint();
    if (tag === ((5 << 3) | 2)) {
      const n = s.varint();
      if (n < INLINE_BELOW) parts.push(varint(tag), varint(n), s.bytes(n));
      else parts.push(lenField(5, scanTensor(s, n, location)));
    } else parts.push(copyField(s, tag));
  }
  return Buffer.concat(parts);
}

export interface ModelSkeleton {
  /** Decoded graph; large initializers are external references (into the model file or its data files). */
  model: ModelProto;
  /** Folder that every external location is relative to (the model file's folder). */
  dir: string;
  /** sha256 of the skeleton bytes + size and mtime of every file holding weights: cheap, changes with the model. */
  key: string;
}

/** Scans `onnxPath` (without reading its weights) into a skeleton. */
export function readModelSkeleton(onnxPath: string): ModelSkeleton {
  const dir = path.dirname(onnxPath);
  const location = path.basename(onnxPath);
  const fd = fs.openSync(onnxPath, 'r');
  let bytes: Buffer;
  try {
    const s = new FileScanner(fd, fs.fstatSync(fd).size);
    const parts: Buffer[] = [];
    while (s.pos < s.size) {
      const tag = s.varint();
      if (tag === ((7 << 3) | 2)) parts.push(lenField(7, scanGraph(s, s.varint(), location)));
      else parts.push(copyField(s, tag));
    }
    bytes = Buffer.concat(parts);
  } finally {
    fs.closeSync(fd);
  }
  const model = decodeModel(bytes);
  const files = new Set<string>([onnxPath]);
  const register = (t: TensorProto): void => {
    if (t.data_location !== 1) return;
    const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const loc = kv.get('location');
    if (!loc) throw new Error(`Tensor ${t.name} has external data without a location.`);
    const file = path.resolve(dir, loc);
    if (path.relative(dir, file).startsWith('..') || path.isAbsolute(loc)) throw new Error(`External data path escapes the model folder: ${loc}`);
    if (!fs.existsSync(file)) throw new Error(`The model's external data file is missing: ${file}`);
    files.add(file);
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : fs.statSync(file).size - offset;
    sources.set(t, { file, offset, length });
  };
  for (const t of model.graph?.initializer ?? []) register(t);
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) register(a.t);
  const h = crypto.createHash('sha256').update(bytes);
  for (const f of [...files].sort()) {
    const st = fs.statSync(f);
    h.update(`${path.basename(f)}:${st.size}:${st.mtimeMs}\n`);
  }
  return { model, dir, key: h.digest('hex') };
}
