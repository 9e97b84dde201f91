/**
 * GELU-family contrib ops → elementwise standard ops:
 *   Gelu(x)          = 0.5·x·(1 + erf(x/√2));   BiasGelu(x, b) = Gelu(x + b)
 *   FastGelu(x, b)   = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), x ← x + b
 *   QuickGelu(x)     = x·sigmoid(α·x)
 */
import { Node } from '../graph';
import { UnfuseContext } from './unfuseContext';

function withBias(u: UnfuseContext, n: Node): string {
  return n.inputs[1] ? u.add(n.inputs[0], n.inputs[1]) : n.inputs[0];
}

export function unfuseGelu(u: UnfuseContext, n: Node): void {
  const x = withBias(u, n);
  const erf = u.op('Erf', [u.mul(x, u.f32(Math.SQRT1_2))]);
  u.emitAs(n.outputs[0], 'Mul', [u.mul(x, u.f32(0.5)), u.add(erf, u.f32(1))]);
}

export function unfuseFastGelu(u: UnfuseContext, n: Node): void {
  const x = withBias(u, n);
  const x3 = u.mul(u.mul(x, x), x);
  const inner = u.mul(u.add(x, u.mul(x3, u.f32(0.044715))), u.f32(Math.sqrt(2 / Math.PI)));
  u.emitAs(n.outputs[0], 'Mul', [u.mul(x, u.f32(0.5)), u.add(u.op('Tanh', [inner]), u.f32(1))]);
}

export function unfuseQuickGelu(u: UnfuseContext, n: Node): void {
  const x = n.inputs[0];
  const alpha = u.attrFloat(n, 'alpha', 1.702);
  u.emitAs(n.outputs[0], 'Mul', [x, u.op('Sigmoid', [alpha === 1 ? x : u.mul(x, u.f32(alpha))])]);
}
