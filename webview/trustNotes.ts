/** What each method's numbers can and cannot tell the user, in plain words. */
const NOTES: Record<string, string> = {
  occlusion:
    'Occlusion measures how the target score changes when a token is replaced by the baseline. It depends on the baseline chosen, and misses effects that only appear when several tokens are removed together.',
  'sliding-window':
    'Sliding-window occlusion removes several neighbouring tokens at once and shares the effect among them, so scores are smoothed over the window: good for phrases, blurry for single tokens.',
  'word-occlusion':
    'Word occlusion removes whole words, so sub-word pieces of one word share one score. Like token occlusion it depends on the baseline and misses interactions between words.',
  'coarse-to-fine':
    'Coarse-to-fine occlusion removes whole paragraphs or sentences first and refines only where the score moved most: a token inside an unrefined span shares its span\'s score (the hover names the level). Each number is an exact occlusion, so it depends on the baseline and misses interactions, like token occlusion.',
  gradient:
    'Plain gradients are unsigned here (the size of the gradient), so they say how sensitive the score is to a token, not whether the token helps or hurts. They describe an infinitesimal change, not removing the token, and are noisy.',
  'gradient-x-input':
    'Gradient × input weighs the local gradient by the embedding itself. It is a first-order estimate: large when the model is locally linear, unreliable where it is not.',
  'integrated-gradients':
    'Integrated gradients sum gradients along a path from a baseline to the input. The completeness gap shows how far the scores are from adding up to the score difference; a large gap means too few steps.',
  smoothgrad:
    'SmoothGrad averages gradients over noisy copies of the input. Scores vary with the seed and noise level; compare runs with the same seed.',
  'gradient-shap':
    'GradientSHAP averages gradient \u00d7 (input \u2212 baseline) over random baselines, noise and points on the path. It does not hinge on one arbitrary baseline, but it is a random estimate: the standard error says how much another seed could move a score, and the scores add up to the score difference only on average.',
  'layer-gradient-x-activation':
    'Layer gradient \u00d7 activation scores each token\u2019s state inside the model at one depth, not the input word: at deep layers a position has already mixed in its context, and at the last layer only the predicting position can matter. It is first-order, like gradient \u00d7 input.',
  'layer-integrated-gradients':
    'Layer integrated gradients integrate from the state a baseline prompt reaches at that depth to the real one; the completeness gap shows how far the scores are from adding up to the difference. Like the layer sweep, it describes positions inside the model, which carry their context, not isolated words.',
  'shapley-sampling':
    'Shapley sampling averages each token\u2019s effect over random orders of adding tokens back, so interactions are shared fairly and the scores add up exactly to the full-minus-empty score. It is an estimate: the standard error says how much another seed could move a score; raise the samples when it is large.',
  'kernel-shap':
    'KernelSHAP fits Shapley values by weighted regression over random keep/remove patterns. With every pattern (short prompts) it is exact; otherwise the standard error shows the sampling noise. Like occlusion it depends on the baseline.',
  lime:
    'LIME fits a linear model to the score near this prompt. Trust it only as far as the fit R\u00b2 goes: a low R\u00b2 means tokens interact and no linear picture describes the model well. Scores vary with the seed.',
  reagent:
    'ReAGent credits tokens whose random replacement lowers the target probability, until a few top tokens alone keep the prediction. Scores are shares that sum to 1, from a random process: compare seeds, and read the standard error over probes.',
  counterfactuals:
    'Counterfactual scores are the largest drop one verified edit of the token causes. Every listed edit was run through the model; edits are single tokens or words, so they show what the model is sensitive to, not a minimal rewrite.',
  attention:
    'Attention weights show where the model looked, not what changed its output; treat them as a hint, not an explanation.',
  'attention-rollout':
    'Attention rollout multiplies attention through the layers with the residual stream as half of each layer. It is still attention, not an effect on the output: a description of information flow under a simplifying assumption.',
  atman:
    'AtMan suppresses the attention to one token in every layer and measures the drop of the target score. It is a perturbation, so it is causal for this model, but the suppression factor is a choice and effects that need several tokens suppressed together are missed.',
};

const GENERIC =
  'Attribution scores are estimates of each token\u2019s influence under this method\u2019s assumptions. Different methods can disagree; compare them before drawing conclusions.';

export function trustNoteFor(method: string): string {
  const key = method.toLowerCase().replace(/[_\s]+/g, '-').replace(/^ig$/, 'integrated-gradients');
  return NOTES[key] ?? GENERIC;
}
