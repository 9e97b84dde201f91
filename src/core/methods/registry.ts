/** Every attribution method by name. Front ends list these; the engine looks methods up here. */
import { EngineError } from '../engineProtocol';
import { atman } from './atman';
import { attentionWeights } from './attention';
import { attentionRollout } from './attentionRollout';
import { coarseToFine } from './coarseToFine';
import { counterfactuals } from './counterfactuals';
import { gradientMethods } from './gradientMethods';
import { gradientShapMethod } from './gradientShap';
import { layerGradientXActivation } from './layerGradientXActivation';
import { layerIntegratedGradients } from './layerIntegratedGradients';
import type { AttributionMethod } from './method';
import { kernelShap } from './kernelShap';
import { lime } from './lime';
import { leaveOneOut, slidingWindow, wordOcclusion } from './occlusion';
import { reagent } from './reagent';
import { shapleySampling } from './shapleySampling';

export const METHODS: readonly AttributionMethod[] = [leaveOneOut, slidingWindow, wordOcclusion, coarseToFine, ...gradientMethods, gradientShapMethod, layerGradientXActivation, layerIntegratedGradients, attentionWeights, attentionRollout, atman, shapleySampling, kernelShap, lime, reagent, counterfactuals];

export function methodByName(name: string): AttributionMethod {
  const m = METHODS.find((x) => x.name === name);
  if (!m) {
    throw new EngineError('unknown-method', `Unknown method "${name}". Available methods: ${METHODS.map((x) => x.name).join(', ')}.`);
  }
  return m;
}
