/** What each method's numbers can and cannot tell the user, in plain words. */
const NOTES: Record<string, string> = {
  occlusion:
    'Occlusion measures how the target score changes when a token is replaced by the baseline. It depends on the baseline chosen, and misses effects that only appear when several tokens are removed together.',
  'sliding-window':
    'Sliding-window occlusion removes several neighbouring tokens at once and shares the effect among them, so scores are smoothed over the window: good for phrases, blurry for single tokens.',
  'word-occlusion':
    'Word occlusion removes whole words, so sub-word pieces of one word share one score. Like token occlusion it depends on the baseline and misses interactions between words.',
  gradient:
    'Plain gradients are unsigned here (the size of the gradient), so they say how sensitive the score is to a token, not whether the token helps or hurts. They describe an infinitesimal change, not removing the token, and are noisy.',
  'gradient-x-input':
    'Gradient × input weighs the local gradient by the embedding itself. It is a first-order estimate: large when the model is locally linear, unreliable where it is not.',
  'integrated-gradients':
    'Integrated gradients sum gradients along a path from a baseline to the input. The completeness gap shows how far the scores are from adding up to the score difference; a large gap means too few steps.',
  smoothgrad:
    'SmoothGrad averages gradients over noisy copies of the input. Scores vary with the seed and noise level; compare runs with the same seed.',
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
