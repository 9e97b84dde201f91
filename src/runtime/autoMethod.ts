/** Resolves the "auto" method for a loaded model: its kind's evaluated default, if the model can run it. */
import { AUTO_METHOD, DEFAULT_METHOD, FALLBACK_METHOD, replaceAuto } from '../core/methods/defaultMethod';
import { methodByName } from '../core/methods/registry';
import { ensureAttention, ensureGradients, type LoadedModel } from './loadedModel';

export async function resolveAutoMethods(methods: readonly string[], model: LoadedModel, cacheDir?: string): Promise<string[]> {
  if (methods.length && !methods.includes(AUTO_METHOD)) return [...methods];
  let chosen = DEFAULT_METHOD[model.folder.kind];
  try {
    const m = methodByName(chosen);
    if (m.needsGradients) await ensureGradients(model, cacheDir);
    if (m.needsAttention) await ensureAttention(model, cacheDir);
  } catch {
    chosen = FALLBACK_METHOD;
  }
  return replaceAuto(methods, chosen);
}
