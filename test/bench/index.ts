/**
 * `npm run bench`: every benchmark table in one run, so ratios are measured side by side. Pass section names
 * (occlusion, gradients, layers, causes, editor, attention, perturbation, long, reexplain) to run only some; `scale` (models at real sizes) runs only when named.
 */
import { runAttentionBench } from './attention';
import { runBatchBench } from './batch';
import { runCauseRecoveryBench } from './causeRecovery';
import { runEditorBench } from './editor';
import { runGradientBench } from './gradients';
import { runLayerBench } from './layers';
import { runLongPromptBench } from './longPrompts';
import { runOcclusionBench } from './occlusion';
import { runScaleBench } from './scale';
import { runPerturbationBench } from './perturbation';
import { runReexplainBench } from './reexplain';

const SECTIONS: Record<string, () => Promise<void>> = {
  occlusion: () => runOcclusionBench(),
  gradients: runGradientBench,
  layers: runLayerBench,
  causes: () => runCauseRecoveryBench(),
  editor: runEditorBench,
  attention: () => runAttentionBench(),
  batch: () => runBatchBench(),
  perturbation: () => runPerturbationBench(),
  long: () => runLongPromptBench(),
  reexplain: () => runReexplainBench(),
};
/** Sections run only when named (they take many minutes). */
const ON_REQUEST: Record<string, () => Promise<void>> = { scale: runScaleBench };

async function main(): Promise<void> {
  const all = { ...SECTIONS, ...ON_REQUEST };
  const asked = process.argv.slice(2).filter((a) => a in all);
  for (const name of asked.length ? asked : Object.keys(SECTIONS)) await all[name]();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
