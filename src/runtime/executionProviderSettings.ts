/**
 * The execution-provider setting's values, apart from executionProviders.ts so that front ends can check the
 * setting without loading onnxruntime (the batch's parent process never runs a model).
 */
export const EXECUTION_PROVIDER_SETTINGS = ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const;
export type ExecutionProviderSetting = (typeof EXECUTION_PROVIDER_SETTINGS)[number];
