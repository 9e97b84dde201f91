/**
 * The engine behind the RPC and the CLI: keeps loaded models, answers calls. Loading is serialised so
 * that two requests for the same model share one load.
 */
import { EngineError, type EngineCall, type ModelSummary } from '../core/engineProtocol';
import { explain } from '../core/explain';
import type { AttributionResult } from '../core/result';
import { METHODS } from '../core/methods/registry';
import { listCachedHubModels } from './hub/cachedModels';
import { listBundledModels, DEFAULT_MODEL } from './modelFolder';
import { ensureAttention, ensureGradients, ensureLogitLens, loadModel, type LoadedModel, type LoadOptions } from './loadedModel';
import { askModelToRate, assertCanRate, compareWithResult } from '../core/trust/askModel';
import { addVariation } from './seedVariants';
import { resolveAutoMethods } from './autoMethod';
import { AUTO_METHOD } from '../core/methods/defaultMethod';

export interface EngineOptions {
  /** Where derived artefacts (augmented gradient graphs) are cached. */
  cacheDir?: string;
}

export type ProgressCallback = (done: number, total: number, message?: string) => void;

export class Engine {
  private readonly models = new Map<string, Promise<LoadedModel>>();
  /** Models whose embeddings-input graph could not be built (not retried for trust figures). */
  private readonly noGradients = new WeakSet<LoadedModel>();

  constructor(readonly options: EngineOptions = {}) {}

  /**
   * `options` (download progress and cancellation of a hub model) apply to the call that starts the load.
   * One load per model, variant setting and purpose (auto may pick different files for gradients).
   */
  model(id: string | undefined, options?: LoadOptions): Promise<LoadedModel> {
    const key = [id?.trim() || DEFAULT_MODEL, options?.variant ?? 'auto', options?.purpose ?? 'forward'].join('\n');
    let p = this.models.get(key);
    if (!p) {
      p = loadModel(id?.trim() || DEFAULT_MODEL, options);
      this.models.set(key, p);
      // A failed load is not cached: the user may fix the folder and try again.
      p.catch(() => this.models.delete(key));
    }
    return p;
  }

  async call(call: EngineCall, signal?: AbortSignal, onProgress?: ProgressCallback, onPartial?: (result: AttributionResult) => void): Promise<unknown> {
    switch (call.op) {
      case 'ping':
        return { pong: true, pid: process.pid };
      case 'listModels':
        return {
          bundled: listBundledModels(),
          downloaded: listCachedHubModels(),
          methods: METHODS.map((m) => ({ name: m.name, label: m.label, needsGradients: m.needsGradients, needsAttention: m.needsAttention ?? false, description: m.description })),
        };
      case 'describeModel': {
        const m = await this.model(call.model, { signal, onProgress, ...(call.variant ? { variant: call.variant } : {}), ...(call.purpose ? { purpose: call.purpose } : {}) });
        const i = m.runner.info;
        const summary: ModelSummary = { id: i.id, kind: i.kind, architecture: i.architecture, contextLength: i.contextLength, labels: i.labels, supportsGradients: i.supportsGradients };
        return summary;
      }
      case 'countTokens': {
        const m = await this.model(call.model);
        return { tokens: m.tokenizer.encodePrompt(call.text).length, contextLength: m.runner.info.contextLength };
      }
      case 'explain': {
        if (call.progress === false) onProgress = undefined;
        const needsGradients = call.request.methods.some((name) => METHODS.find((x) => x.name === name)?.needsGradients);
        const m = await this.model(call.request.model, { signal, onProgress, variant: call.request.variant, purpose: needsGradients ? 'gradients' : 'forward' });
        if (!call.request.methods.length || call.request.methods.includes(AUTO_METHOD)) {
          call = { ...call, request: { ...call.request, methods: await resolveAutoMethods(call.request.methods, m, this.options.cacheDir) } };
        }
        if (call.request.methods.some((name) => METHODS.find((x) => x.name === name)?.needsGradients)) {
          onProgress?.(0, 1, 'Preparing gradients');
          await ensureGradients(m, this.options.cacheDir);
        } else if ((call.request.trust !== false || call.request.methods.some((name) => METHODS.find((x) => x.name === name)?.usesGradients)) && !m.runner.gradients && !this.noGradients.has(m)) {
          // Soft-NC / Soft-NS feed embeddings and counterfactual edits use gradients when they exist: prepare
          // that path too, but a model without it still explains.
          onProgress?.(0, 1, 'Preparing embeddings input');
          await ensureGradients(m, this.options.cacheDir).catch(() => this.noGradients.add(m));
        }
        if (call.request.methods.some((name) => METHODS.find((x) => x.name === name)?.needsAttention)) {
          onProgress?.(0, 1, 'Preparing attention');
          await ensureAttention(m, this.options.cacheDir);
        }
        if (call.request.logitLens) await ensureLogitLens(m);
        if (call.request.selfRate) {
          assertCanRate(m.runner);
          // A chat model is asked, and explained, through its chat template.
          if (!call.request.chat && m.tokenizer.chatPrompt?.('x') !== undefined) call = { ...call, request: { ...call.request, chat: {} } };
        }
        let result = await explain(call.request, m, { signal, onProgress, ...(call.partials === false ? {} : { onPartial }) });
        if (call.request.selfRate) {
          onProgress?.(0, 1, 'Asking the model to rate its input');
          const asked = await askModelToRate(m.runner, m.tokenizer, call.request.text, { signal, ...(call.request.chat?.system ? { system: call.request.chat.system } : {}) });
          result = { ...result, selfRating: compareWithResult(asked, result) };
        }
        if (!call.request.variation) return result;
        return addVariation(result, call.request.variation, m, (id) => this.model(id), { signal, cacheDir: this.options.cacheDir, onProgress });
      }
      default:
        throw new EngineError('internal', `Unknown engine call ${JSON.stringify(call)}.`);
    }
  }
}
