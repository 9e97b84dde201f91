/** Reading and writing .onnx files, with external data (`model.onnx.data`) inlined into raw_data. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelProto, TensorProto, decodeModel, encodeModel, toNumber } from './onnxProto';

function inlineExternal(t: TensorProto, modelDir: string, files: Map<string, Buffer>): void {
  if (t.data_location !== 1) return;
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new Error(`Tensor ${t.name} has external data without a location.`);
  const file = path.resolve(modelDir, location);
  if (!file.startsWith(path.resolve(modelDir))) throw new Error(`External data path escapes the model folder: ${location}`);
  let buf = files.get(file);
  if (!buf) {
    if (!fs.existsSync(file)) throw new Error(`The model's external data file is missing: ${file}`);
    buf = fs.readFileSync(file);
    files.set(file, buf);
  }
  const offset = Number(kv.get('offset') ?? 0);
  const length = kv.has('length') ? Number(kv.get('length')) : buf.length - offset;
  t.raw_data = buf.subarray(offset, offset + length);
  t.data_location = 0;
  t.external_data = [];
}

/** Decodes a model and resolves all external tensors relative to its folder. */
export function loadModel(onnxPath: string): ModelProto {
  const model = decodeModel(fs.readFileSync(onnxPath));
  const dir = path.dirname(onnxPath);
  const files = new Map<string, Buffer>();
  for (const t of model.graph?.initializer ?? []) inlineExternal(t, dir, files);
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) inlineExternal(a.t, dir, files);
  return model;
}

export function saveModel(model: ModelProto, onnxPath: string): void {
  fs.writeFileSync(onnxPath, encodeModel(model));
}

export { toNumber };
