/** Command-line parsing for `promptscope explain`: small and strict, every mistake named. */
import type { Granularity, MethodParams, OcclusionBaseline, TargetSpec } from '../core/request';
import type { VariationSource } from '../core/trust/variation';

export interface CliOptions {
  text?: string;
  file?: string;
  model?: string;
  variant?: string;
  /** Explain the text as a chat user message (with an optional system prompt). */
  chat?: boolean;
  system?: string;
  methods: string[];
  target: TargetSpec;
  granularity: Granularity;
  json: boolean;
  html?: string;
  csv?: string;
  top: number;
  maxTokens?: number;
  batchTokens?: number;
  truncate: boolean;
  params: MethodParams;
  color?: boolean;
  /** Faithfulness and agreement figures (on unless --no-trust). */
  trust: boolean;
  /** Keep every layer's and head's attention probabilities in exports and print their summary. */
  attentionDetail: boolean;
  /** Explain again under seed variants, method seeds or baselines (mean ± sd, sign agreement, SNR). */
  variation?: VariationSource;
  executionProvider?: string;
  /** Read every layer's prediction through the final norm and LM head. */
  logitLens?: boolean;
  /** Ask the model to rate each input word (−1…1) and compare with the attribution. */
  selfRate: boolean;
  /** Print a line per streamed partial result on stderr (level and passes). */
  stream?: boolean;
}

export class UsageError extends Error {}

export const USAGE = `Usage: promptscope explain [TEXT] [options]
       promptscope batch INPUT --out FILE [options]   (every row of a JSONL / CSV file; batch --help)
       promptscope diff A.json B.json [--json]        (compare two saved results; diff --help)

Explains which prompt tokens drive a local language model's output.
TEXT is the prompt; without it, the prompt is read from --file or standard input.

Options:
  --file FILE            read the prompt from FILE
  --model NAME|DIR|ID    bundled model name, a model folder, or a Hugging Face hub id org/name[@revision]
                         (downloaded once into ~/.cache/promptscope/hub; HF_ENDPOINT, HF_TOKEN honoured)
                         (default: promptscope-tiny-lm; promptscope-tiny-long takes 2,048-token prompts)
  --chat                 explain TEXT as the user message of a chat, wrapped in the model's chat template;
                         the assistant's reply is the target
  --system TEXT          system prompt for --chat (implies --chat)
  --variant V            model file: auto | fp32 | fp16 | q4 | q4f16 | int8 | uint8 | quantized | bnb4 (default auto)
  --method NAME[,NAME]   attribution method(s); see --list-methods (default: auto = atman for language
                         models, integrated-gradients for classifiers, as ranked by npm run eval)
  --target TEXT          explain this next token instead of the model's own prediction
  --force TEXT           explain a forced continuation, one row per token
  --generate N           explain a greedy continuation of N tokens
  --contrast A,B         explain log p(A) − log p(B)
  --label NAME           classifiers: explain this label (default: the predicted one)
  --granularity G        token | word | line | sentence (default: token)
  --baseline B           occlusion baseline: delete | attention | pad | unk | mask | space
  --window W --stride S  sliding-window width and stride
  --pass-budget N        coarse-to-fine: most occlusion passes (default: a fifth of leave-one-out's)
  --budget SECONDS       coarse-to-fine: seconds spent refining after the coarse level (default: no limit)
  --steps N              integrated gradients: intervals of the first rule (default 16, refined while the gap is above 1 %); reagent maximum steps (default 100)
  --max-steps N          integrated gradients: most intervals (default 64; = --steps: no refinement)
  --ig-baseline B        integrated gradients baseline: zero | mean | pad (default mean)
  --samples N --seed N   samples and seed of the sampling methods (SmoothGrad noisy copies, default 16;
                         shapley-sampling permutations, kernel-shap coalitions, lime masks, reagent probes,
                         counterfactuals candidates per position; defaults in --list-methods); seed default 0
  --features U           perturbation methods: perturb token | word | line | sentence units (default token)
  --ratio X              reagent: share of features replaced per step (default 0.3)
  --keep-top N           reagent: features kept by the stop rule (default 5)
  --replacement S        reagent: replacement tokens: uniform | model (default uniform; --baseline replaces instead)
  --noise X              SmoothGrad noise, as a fraction of the embeddings' range (default 0.1)
  --layer L --head H     attention: read one layer / head (0-based, or middle / last; default: the mean over all)
  --layer L              layer methods: the block whose residual-stream output is attributed: an index
                         (0-based), middle or last (default middle)
  --layer-input          layer methods: attribute the stream entering the block instead of its output
  --sweep-layers         layer-integrated-gradients: also attribute at every depth (one path each; the
                         layer-gradient-x-activation sweep is always included, from its one backward pass)
  --suppression F        atman: suppression factor f (default 0.9: the token's scores × 0.1)
  --conceptual K         atman: also suppress tokens whose embeddings have cosine ≥ K (paper: 0.7)
  --attention-detail     attention methods: print the layer × head summary and keep every layer's
                         probabilities in --json / --html exports (large)
  --logit-lens           language models: apply the final norm and LM head after every layer and show the
                         top tokens and the target's probability per layer (JSON: logitLens)
  --top K                number of top tokens listed (default: 5)
  --max-tokens N         refuse prompts longer than N tokens
  --batch-tokens N       cap on tokens per onnxruntime run
  --ep PROVIDER          onnxruntime execution provider: auto | cpu | cuda | dml | coreml (default auto;
                         falls back to the CPU with a warning when the provider is not available)
  --truncate             explain only the last tokens of a prompt that is too long
  --json                 print the result as JSON
  --stream               print a line on stderr as each partial result arrives (level and passes); Ctrl+C
                         then prints what was computed, marked partial (JSON: "partial": {"state": "cancelled"})
  --html FILE            write a self-contained HTML heatmap
  --csv FILE             write scores as CSV
  --color / --no-color   force or disable terminal colours
  --seed-variants LIST   also explain with these seed-variant models (folders, or "bundled") and report
                         per-token mean ± sd, sign agreement and signal-to-noise ratio
  --method-seeds N       the same over N seeds of the stochastic methods (smoothgrad, sampling methods)
  --baselines B[,B]      the same over occlusion baselines
  --self-rate            ask the model itself to rate each word from −1 to 1 (language models), parse its
                         reply and give its rank correlation with the attribution
  --no-trust             skip the faithfulness figures (comprehensiveness / sufficiency vs random, agreement)
  --list-methods         list methods and exit
  --list-models          list bundled and downloaded models and exit
  -h, --help             show this help
`;

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { methods: ['auto'], target: { kind: 'next-token' }, granularity: 'token', json: false, top: 5, truncate: false, params: {}, trust: true, selfRate: false, attentionDetail: false };
  const positional: string[] = [];
  const targets: TargetSpec[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value.`);
      return v;
    };
    const int = (min = 1): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min) throw new UsageError(`${a} needs a whole number ≥ ${min} (got "${raw}").`);
      return n;
    };
    switch (a) {
      case '--file': o.file = value(); break;
      case '--model': o.model = value(); break;
      case '--chat': o.chat = true; break;
      case '--system': o.system = value(); o.chat = true; break;
      case '--variant': {
        const v = value();
        const all = ['auto', 'fp32', 'fp16', 'q4', 'q4f16', 'int8', 'uint8', 'quantized', 'bnb4'];
        if (!all.includes(v)) throw new UsageError(`Unknown variant "${v}": use ${all.join(', ')}.`);
        o.variant = v;
        break;
      }
      case '--method': case '--methods': o.methods = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--target': targets.push({ kind: 'token', text: value() }); break;
      case '--force': targets.push({ kind: 'forced', text: value() }); break;
      case '--generate': targets.push({ kind: 'generate', tokens: int() }); break;
      case '--contrast': {
        const [text, foil, ...rest] = value().split(',');
        if (!text || !foil || rest.length) throw new UsageError('--contrast needs two texts separated by a comma, e.g. --contrast " Paris, London".');
        targets.push({ kind: 'contrastive', text, foil: foil.startsWith(' ') || !text.startsWith(' ') ? foil : ' ' + foil });
        break;
      }
      case '--label': targets.push({ kind: 'class', label: value() }); break;
      case '--granularity': {
        const g = value();
        if (!['token', 'word', 'line', 'sentence'].includes(g)) throw new UsageError(`Unknown granularity "${g}": use token, word, line or sentence.`);
        o.granularity = g as Granularity;
        break;
      }
      case '--baseline': {
        const b = value();
        if (!['delete', 'attention', 'pad', 'unk', 'mask', 'space'].includes(b)) throw new UsageError(`Unknown baseline "${b}": use delete, attention, pad, unk, mask or space.`);
        o.params.baseline = b as OcclusionBaseline;
        break;
      }
      case '--window': o.params.window = int(); break;
      case '--stride': o.params.stride = int(); break;
      case '--pass-budget': o.params.passBudget = int(); break;
      case '--budget': {
        const raw = value();
        const x = Number(raw);
        if (!(x > 0) || raw.trim() === '') throw new UsageError(`--budget needs a number of seconds above 0 (got "${raw}").`);
        o.params.timeBudget = x;
        break;
      }
      case '--ep': o.executionProvider = value(); break;
      case '--steps': o.params.steps = int(); break;
      case '--max-steps': o.params.maxSteps = int(); break;
      case '--samples': o.params.samples = int(); break;
      case '--ig-baseline': {
        const b = value();
        if (!['zero', 'mean', 'pad'].includes(b)) throw new UsageError(`Unknown integrated-gradients baseline "${b}": use zero, mean or pad.`);
        o.params.igBaseline = b as 'zero' | 'mean' | 'pad';
        break;
      }
      case '--noise': {
        const raw = value();
        const x = Number(raw);
        if (!(x >= 0 && x <= 10)) throw new UsageError(`--noise needs a number between 0 and 10 (got "${raw}").`);
        o.params.noise = x;
        break;
      }
      case '--seed': o.params.seed = int(0); break;
      case '--layer': {
        const raw = argv[i + 1];
        if (raw === 'middle' || raw === 'last') { o.params.layerPick = raw; i++; } else o.params.layer = int(0);
        break;
      }
      case '--layer-input': o.params.layerInput = true; break;
      case '--sweep-layers': o.params.sweepLayers = true; break;
      case '--head': o.params.head = int(0); break;
      case '--suppression': case '--conceptual': {
        const raw = value();
        const x = Number(raw);
        if (!(x >= 0 && x <= 1) || raw.trim() === '') throw new UsageError(`${a} needs a number between 0 and 1 (got "${raw}").`);
        if (a === '--suppression') o.params.suppression = x;
        else o.params.conceptual = x;
        break;
      }
      case '--attention-detail': o.attentionDetail = true; break;
      case '--logit-lens': o.logitLens = true; break;
      case '--features': {
        const f = value();
        if (!['token', 'word', 'line', 'sentence'].includes(f)) throw new UsageError(`Unknown feature unit "${f}": use token, word, line or sentence.`);
        o.params.features = f as Granularity;
        break;
      }
      case '--ratio': {
        const raw = value();
        const x = Number(raw);
        if (!(x > 0 && x < 1)) throw new UsageError(`--ratio needs a number between 0 and 1 (got "${raw}").`);
        o.params.ratio = x;
        break;
      }
      case '--keep-top': o.params.keepTop = int(); break;
      case '--replacement': {
        const r = value();
        if (r !== 'uniform' && r !== 'model') throw new UsageError(`Unknown replacement "${r}": use uniform or model.`);
        o.params.replacement = r;
        break;
      }
      case '--top': o.top = int(); break;
      case '--max-tokens': o.maxTokens = int(); break;
      case '--batch-tokens': o.batchTokens = int(); break;
      case '--truncate': o.truncate = true; break;
      case '--json': o.json = true; break;
      case '--stream': o.stream = true; break;
      case '--html': o.html = value(); break;
      case '--csv': o.csv = value(); break;
      case '--color': case '--colour': o.color = true; break;
      case '--no-color': case '--no-colour': o.color = false; break;
      case '--no-trust': o.trust = false; break;
      case '--self-rate': o.selfRate = true; break;
      case '--seed-variants': o.variation = { kind: 'seed-variants', models: value().split(',').map((x) => x.trim()).filter(Boolean) }; break;
      case '--method-seeds': { const n = int(2); o.variation = { kind: 'method-seeds', seeds: Array.from({ length: n }, (_, i) => i) }; break; }
      case '--baselines': {
        const list = value().split(',').map((x) => x.trim()).filter(Boolean);
        const bad = list.find((b) => !['delete', 'attention', 'pad', 'unk', 'mask', 'space'].includes(b));
        if (bad !== undefined || list.length === 0) throw new UsageError(`Unknown baseline "${bad ?? ''}" in --baselines: use delete, attention, pad, unk, mask or space, separated by commas.`);
        o.variation = { kind: 'baselines', baselines: list as OcclusionBaseline[] };
        break;
      }
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`Unknown option ${a}. Run promptscope --help for the options.`);
        positional.push(a);
    }
  }
  if (targets.length > 1) throw new UsageError('Give one target: --target, --force, --generate, --contrast or --label.');
  if (targets.length) o.target = targets[0];
  if (positional.length) o.text = positional.join(' ');
  if (o.text !== undefined && o.file) throw new UsageError('Give the prompt either as TEXT or with --file, not both.');
  return o;
}
