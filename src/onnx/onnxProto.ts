/**
 * ONNX protobuf decode/encode with protobufjs. The schema is parsed once, lazily. Messages are kept as
 * protobufjs objects (int64 fields may be Long instances) — use `toNumber` when reading them.
 */
import * as protobuf from 'protobufjs';
import { ONNX_PROTO_SCHEMA } from './onnxSchema';

export type Int64 = number | { toNumber(): number; toString(): string };

export interface StringStringEntryProto { key?: string; value?: string }
export interface TensorProto {
  dims?: Int64[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  string_data?: Uint8Array[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryProto[];
  data_location?: number;
}
export interface DimensionProto { dim_value?: Int64; dim_param?: string; denotation?: string }
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: DimensionProto[] } };
  [k: string]: unknown;
}
export interface ValueInfoProto { name?: string; type?: TypeProto; doc_string?: string }
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  [k: string]: unknown;
}
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
}
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: unknown[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
}
export interface OperatorSetIdProto { domain?: string; version?: Int64 }
export interface ModelProto {
  ir_version?: Int64;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
  functions?: unknown[];
}

/** ONNX AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

let modelType: protobuf.Type | undefined;
function getModelType(): protobuf.Type {
  if (!modelType) modelType = protobuf.parse(ONNX_PROTO_SCHEMA, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return getModelType().decode(bytes) as unknown as ModelProto;
  } catch (e) {
    throw new Error(`Not a readable ONNX model (protobuf decode failed: ${(e as Error).message}).`);
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return getModelType().encode(model as unknown as protobuf.Message).finish();
}

export function toNumber(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
