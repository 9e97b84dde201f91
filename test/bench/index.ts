/**
 * `npm run bench`: every benchmark table in one run, so ratios are measured side by side. Pass section names
 * (occlusion, gradients, causes, editor) to run only some.
 */
import { runAttentionBench } from './attention';
import { runCauseRecoveryBench } from './causeRecovery';
import { runEditorBench } from './editor';
import { runGradientBench } from './gradients';
import { runOcclusionBench } from './occlusion';

const SECTIONS: Record<string, () => Promise<void>> = {
  occlusion: () => runOcclusionBench(),
  gradients: runGradientBench,
  causes: () => runCauseRecoveryBench(),
  editor: runEditorBench,
  attention: () => runAttentionBench(),
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => a in SECTIONS);
  for (const name of asked.length ? asked : Object.keys(SECTIONS)) await SECTIONS[name]();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
