/**
 * Which onnxruntime execution provider runs the model: the setting `promptscope.executionProvider` / CLI `--ep`
 * (carried to the inference process as PROMPTSCOPE_EP). The npm package onnxruntime-node ships CPU everywhere,
 * DirectML on Windows and CoreML on macOS; CUDA on Linux x64 only when its provider library was installed beside
 * the package (its install script downloads it from outside the npm registry). `auto` takes the platform's
 * accelerator when it is there, else the CPU. A provider that is asked for but missing falls back to the CPU with a
 * warning naming what is available; so does one that fails to create a session.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';

import { EXECUTION_PROVIDER_SETTINGS } from './executionProviderSettings';
export { EXECUTION_PROVIDER_SETTINGS, type ExecutionProviderSetting } from './executionProviderSettings';

export interface ProviderChoice {
  /** Providers for session options, most preferred first (always ending with cpu). */
  providers: string[];
  /** Set when the choice differs from what was asked, for the user. */
  warning?: string;
}

function cudaLibraryPresent(): boolean {
  try {
    const dir = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
    return fs.readdirSync(dir).some((f) => f.includes('providers_cuda'));
  } catch {
    return false;
  }
}

/** Providers this onnxruntime-node build can use on this machine. */
export function availableProviders(): string[] {
  const out = new Set<string>(['cpu']);
  let listed: { name: string; bundled: boolean }[] = [];
  try {
    listed = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [];
  } catch {
    /* older bindings: CPU only */
  }
  for (const b of listed) {
    if (b.name === 'dml' || b.name === 'coreml') out.add(b.name);
    if (b.name === 'cuda' && (b.bundled || cudaLibraryPresent())) out.add('cuda');
  }
  return [...out];
}

const PLATFORM_ACCELERATOR: Record<string, string> = { win32: 'dml', darwin: 'coreml', linux: 'cuda' };

export function chooseProviders(setting: string | undefined, available = availableProviders()): ProviderChoice {
  const asked = (setting ?? 'auto').trim().toLowerCase() || 'auto';
  if (!(EXECUTION_PROVIDER_SETTINGS as readonly string[]).includes(asked)) {
    return { providers: ['cpu'], warning: `Unknown execution provider "${setting}"; using the CPU. Choose one of: ${EXECUTION_PROVIDER_SETTINGS.join(', ')}.` };
  }
  if (asked === 'cpu') return { providers: ['cpu'] };
  if (asked === 'auto') {
    const acc = PLATFORM_ACCELERATOR[process.platform];
    return { providers: acc && available.includes(acc) ? [acc, 'cpu'] : ['cpu'] };
  }
  if (available.includes(asked)) return { providers: [asked, 'cpu'] };
  return {
    providers: ['cpu'],
    warning: `The ${asked} execution provider is not available in this onnxruntime-node build on ${process.platform}-${process.arch} (available: ${available.join(', ')}); running on the CPU. Set promptscope.executionProvider (CLI --ep) to auto or cpu to silence this.`,
  };
}

/** The choice for this process (PROMPTSCOPE_EP), computed once; warnings go to stderr once. */
let current: ProviderChoice | undefined;
export function processProviders(): ProviderChoice {
  if (!current) {
    current = chooseProviders(process.env.PROMPTSCOPE_EP);
    if (current.warning) process.stderr.write(`promptscope: ${current.warning}\n`);
  }
  return current;
}

/**
 * Creates a session with the chosen providers; when an accelerator fails to initialise (driver, unsupported op),
 * retries on the CPU and says so once.
 */
export async function createSession(source: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const providers = processProviders().providers;
  if (providers.length === 1) return ort.InferenceSession.create(source as string, { ...options, executionProviders: providers });
  try {
    return await ort.InferenceSession.create(source as string, { ...options, executionProviders: providers });
  } catch (err) {
    process.stderr.write(`promptscope: the ${providers[0]} execution provider could not run this model (${String((err as Error)?.message ?? err).split('\n')[0]}); running on the CPU.\n`);
    current = { providers: ['cpu'] };
    return ort.InferenceSession.create(source as string, { ...options, executionProviders: ['cpu'] });
  }
}
