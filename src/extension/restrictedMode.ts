/**
 * Restricted Mode (an untrusted workspace): settings that point Promptscope at files, folders or a download
 * address are taken from user settings only, never from the workspace (package.json declares them as
 * `restrictedConfigurations`, and they are read here the same way so that no VS Code version differs). The
 * bundled models keep working; the user is told once per session which workspace settings were ignored.
 */
import * as vscode from 'vscode';

/** Setting keys (under `promptscope.`) that Restricted Mode takes from user settings only. */
export const RESTRICTED_SETTINGS = ['model', 'seedVariants', 'hubEndpoint'] as const;
export type RestrictedSetting = (typeof RESTRICTED_SETTINGS)[number];

const isRestricted = (key: string): key is RestrictedSetting => (RESTRICTED_SETTINGS as readonly string[]).includes(key);

/** The value of `key`, ignoring workspace and folder values while the workspace is not trusted. */
export function settingValue<T>(c: vscode.WorkspaceConfiguration, key: string, fallback: T): T {
  if (vscode.workspace.isTrusted || !isRestricted(key)) return c.get<T>(key, fallback);
  const i = c.inspect<T>(key);
  return i?.globalValue ?? i?.defaultValue ?? fallback;
}

/** Drops comments and trailing commas of a settings file (JSON with comments), leaving strings intact. */
function stripJsonc(text: string): string {
  return text
    .replace(/"(?:\\.|[^"\\])*"|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith('"') ? m : ''))
    .replace(/,(\s*[}\]])/g, '$1');
}

async function settingsIn(uri: vscode.Uri, nested: boolean): Promise<Record<string, unknown>> {
  try {
    const parsed = JSON.parse(stripJsonc(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)))) as Record<string, unknown>;
    return (nested ? (parsed.settings as Record<string, unknown> | undefined) : parsed) ?? {};
  } catch {
    return {};
  }
}

/**
 * Restricted settings this workspace sets, which are being ignored (empty when trusted). VS Code hides the
 * workspace values of restricted settings from the configuration API in Restricted Mode, so the workspace's
 * settings files are read directly to say which ones.
 */
export async function ignoredWorkspaceSettings(): Promise<string[]> {
  if (vscode.workspace.isTrusted) return [];
  const files = (vscode.workspace.workspaceFolders ?? []).map((f) => settingsIn(vscode.Uri.joinPath(f.uri, '.vscode', 'settings.json'), false));
  if (vscode.workspace.workspaceFile?.scheme === 'file') files.push(settingsIn(vscode.workspace.workspaceFile, true));
  const set = new Set<string>();
  for (const values of await Promise.all(files)) for (const k of Object.keys(values)) set.add(k);
  return RESTRICTED_SETTINGS.map((k) => `promptscope.${k}`).filter((k) => set.has(k));
}

let told = false;

/** The message to show once per session when workspace settings are ignored, else undefined. */
export async function restrictedModeNotice(modelInUse: string): Promise<string | undefined> {
  if (told || vscode.workspace.isTrusted) return undefined;
  const ignored = await ignoredWorkspaceSettings();
  if (ignored.length === 0) return undefined;
  told = true;
  const names = ignored.join(', ');
  const model = modelInUse ? `the model “${modelInUse}” from your user settings` : 'the bundled model';
  return `Promptscope: this workspace is in Restricted Mode, so its ${ignored.length > 1 ? 'settings' : 'setting'} ${names} ${ignored.length > 1 ? 'are' : 'is'} ignored and ${model} is used. Trust the workspace to use its settings.`;
}
