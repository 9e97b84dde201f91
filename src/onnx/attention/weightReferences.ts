/**
 * Derived graphs that point at the original model's weights instead of copying them: every large
 * initializer whose bytes still lie in the original .onnx (or its external data file) becomes an external
 * tensor with that file's offset and length. A user's model may be gigabytes; the derived file stays small.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelProto, TensorProto, decodeModel } from '../onnxProto';

export interface WeightSource {
  file: string;
  bytes: Buffer;
}

export interface LoadedWithSources {
  model: ModelProto;
  sources: WeightSource[];
}

/** Tensors smaller than this stay inline (shape constants, norms). */
const MIN_REFERENCED_BYTES = 1024;

/** Decodes a model and inlines external tensors, remembering which file buffer each byte range came from. */
export function loadModelWithSources(onnxPath: string): LoadedWithSources {
  const bytes = fs.readFileSync(onnxPath);
  const model = decodeModel(bytes);
  const sources: WeightSource[] = [{ file: path.resolve(onnxPath), bytes }];
  const dir = path.dirname(path.resolve(onnxPath));
  const inline = (t: TensorProto): void => {
    if (t.data_location !== 1) return;
    const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    if (!location) throw new Error(`Tensor ${t.name} has external data without a location.`);
    const file = path.resolve(dir, location);
    if (!file.startsWith(dir)) throw new Error(`External data path escapes the model folder: ${location}`);
    let src = sources.find((s) => s.file === file);
    if (!src) {
      if (!fs.existsSync(file)) throw new Error(`The model's external data file is missing: ${file}`);
      src = { file, bytes: fs.readFileSync(file) };
      sources.push(src);
    }
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : src.bytes.length - offset;
    t.raw_data = src.bytes.subarray(offset, offset + length);
    t.data_location = 0;
    t.external_data = [];
  };
  for (const t of model.graph?.initializer ?? []) inline(t);
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) inline(a.t);
  return { model, sources };
}

/**
 * Turns initializers whose raw bytes are views into a source file into external references. `location(i)`
 * names source i as the derived model's folder sees it (a link to the original file). Returns how many bytes
 * are referenced rather than copied. Mutates the model's initializer list (copies of the tensor messages).
 */
export function referenceSourceWeights(model: ModelProto, sources: WeightSource[], location: (source: number) => string): number {
  let referenced = 0;
  const inits = model.graph?.initializer ?? [];
  model.graph!.initializer = inits.map((t) => {
    const raw = t.raw_data;
    if (!raw || raw.length < MIN_REFERENCED_BYTES) return t;
    const s = sources.findIndex((src) => raw.buffer === src.bytes.buffer && raw.byteOffset >= src.bytes.byteOffset && raw.byteOffset + raw.length <= src.bytes.byteOffset + src.bytes.length);
    if (s < 0) return t;
    referenced += raw.length;
    const offset = raw.byteOffset - sources[s].bytes.byteOffset;
    return {
      ...t,
      raw_data: undefined,
      data_location: 1,
      external_data: [
        { key: 'location', value: location(s) },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ],
    };
  });
  return referenced;
}
