/**
 * Nodes of an encoded ModelProto's main graph, counted by skipping through the protobuf wire format (ModelProto
 * field 7 = graph, GraphProto field 1 = node) without decoding anything else: a cached derived graph's size is
 * known without parsing it.
 */
export function countGraphNodes(bytes: Uint8Array): number {
  const graph = lengthDelimited(bytes, 0, bytes.length, 7)[0];
  return graph ? lengthDelimited(bytes, graph[0], graph[1], 1).length : 0;
}

/** [start, end) of every length-delimited field `field` between `from` and `to`. */
function lengthDelimited(b: Uint8Array, from: number, to: number, field: number): [number, number][] {
  const out: [number, number][] = [];
  let i = from;
  const varint = (): number => {
    let v = 0, scale = 1;
    for (;;) {
      if (i >= to) throw new Error('Truncated protobuf varint.');
      const x = b[i++];
      v += (x & 0x7f) * scale;
      if (x < 0x80) return v;
      scale *= 128;
    }
  };
  while (i < to) {
    const tag = varint();
    const wire = tag % 8, f = Math.floor(tag / 8);
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const n = varint();
      if (f === field) out.push([i, i + n]);
      i += n;
    } else throw new Error(`Unsupported protobuf wire type ${wire}.`);
  }
  return out;
}
