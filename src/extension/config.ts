/** One typed view of the `promptscope.*` settings; read fresh on every use so changes apply live. */
import * as vscode from 'vscode';
import type { Granularity, TargetSpec } from '../core/request';
import type { VariationSource } from '../core/trust/variation';
import { settingValue } from './restrictedMode';

import type { ColourScaleMode, RowScaleMode } from './tintModel';
export type { ColourScaleMode, RowScaleMode };
export type DefaultTarget = 'next-token' | 'generate';

export interface PromptscopeConfig {
  model: string;
  /** auto | fp32 | fp16 | q4 | q4f16 | int8 | uint8 | quantized | bnb4. */
  modelVariant: string;
  method: string;
  target: DefaultTarget;
  generateTokens: number;
  granularity: Granularity;
  colourScale: ColourScaleMode;
  rowScale: RowScaleMode;
  /** Keep whitespace at the end of a selection in the prompt (by default it is left out). */
  keepTrailingWhitespace: boolean;
  opacity: number;
  maxTokens: number;
  maxTokensPerBatch: number;
  /** Faithfulness and agreement figures on every result. */
  trust: boolean;
  /** Hub or mirror for hub ids; '' = HF_ENDPOINT or the public hub. */
  hubEndpoint: string;
  /** onnxruntime execution provider for the inference process (auto | cpu | cuda | dml | coreml). */
  executionProvider: string;
  /** Seed-variant model folders ("bundled": the model's own) to explain again with; empty: off. */
  seedVariants: string[];
  /** Seeds of the stochastic methods to explain again with (< 2: off). */
  methodSeeds: number;
  /** Coarse-to-fine occlusion: seconds of refinement (0: no time limit). */
  timeBudget: number;
  /** Runs kept per document for comparisons (the current one included). */
  historySize: number;
  /** Layer methods: a block index, middle or last. */
  layer: string;
}

export const SECTION = 'promptscope';

export function readConfig(scope?: vscode.ConfigurationScope): PromptscopeConfig {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    model: settingValue(c, 'model', '').trim(),
    modelVariant: c.get<string>('modelVariant', 'auto').trim() || 'auto',
    method: c.get<string>('method', 'auto').trim() || 'auto',
    target: c.get<DefaultTarget>('target', 'next-token'),
    generateTokens: clampInt(c.get<number>('generateTokens', 5), 1, 64),
    granularity: c.get<Granularity>('granularity', 'token'),
    colourScale: c.get<ColourScaleMode>('colourScale', 'diverging'),
    rowScale: c.get<RowScaleMode>('rowScale', 'shared') === 'per-row' ? 'per-row' : 'shared',
    keepTrailingWhitespace: c.get<boolean>('keepTrailingWhitespace', false) === true,
    opacity: clamp(c.get<number>('opacity', 1), 0.05, 1),
    maxTokens: clampInt(c.get<number>('maxTokens', 512), 1, 1_000_000),
    maxTokensPerBatch: clampInt(c.get<number>('maxTokensPerBatch', 8192), 64, 10_000_000),
    trust: c.get<boolean>('trust', true) !== false,
    hubEndpoint: settingValue(c, 'hubEndpoint', '').trim(),
    executionProvider: c.get<string>('executionProvider', 'auto'),
    seedVariants: (settingValue<unknown[]>(c, 'seedVariants', []) ?? []).filter((x): x is string => typeof x === 'string' && x.trim() !== ''),
    methodSeeds: clampInt(c.get<number>('methodSeeds', 0), 0, 64),
    timeBudget: clamp(c.get<number>('timeBudget', 0), 0, 86_400),
    historySize: clampInt(c.get<number>('historySize', 5), 1, 50),
    layer: String(c.get<string>('layer', 'middle') ?? 'middle'),
  };
}

/** Variants to explain again with, from the settings (seed variants first), or none. */
export function variationFromConfig(cfg: PromptscopeConfig): VariationSource | undefined {
  if (cfg.seedVariants.length) return { kind: 'seed-variants', models: cfg.seedVariants };
  if (cfg.methodSeeds >= 2) return { kind: 'method-seeds', seeds: Array.from({ length: cfg.methodSeeds }, (_, i) => i) };
  return undefined;
}

export function defaultTargetSpec(cfg: PromptscopeConfig): TargetSpec {
  return cfg.target === 'generate' ? { kind: 'generate', tokens: cfg.generateTokens } : { kind: 'next-token' };
}

/** Settings that only change how an existing result looks (no re-run needed). */
export const VIEW_SETTINGS = ['granularity', 'colourScale', 'rowScale', 'opacity'].map((k) => `${SECTION}.${k}`);

function clamp(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : hi;
}
function clampInt(v: number, lo: number, hi: number): number {
  return Math.round(clamp(v, lo, hi));
}
