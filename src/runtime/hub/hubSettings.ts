/**
 * Where hub downloads come from and go to. The endpoint is the user's setting, else HF_ENDPOINT (mirrors),
 * else the public hub. The token is read from HF_TOKEN at the moment of the request and kept nowhere else.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { HubId } from './hubId';

export const PUBLIC_HUB = 'https://huggingface.co';

export function hubEndpoint(setting?: string): string {
  const chosen = setting?.trim() || process.env.PROMPTSCOPE_HUB_ENDPOINT?.trim() || process.env.HF_ENDPOINT?.trim() || PUBLIC_HUB;
  return chosen.replace(/\/+$/, '');
}

export function hubToken(): string | undefined {
  return process.env.HF_TOKEN?.trim() || process.env.HUGGING_FACE_HUB_TOKEN?.trim() || undefined;
}

/** Root of Promptscope's own cache: PROMPTSCOPE_CACHE_DIR (the editor's global storage), else ~/.cache/promptscope. */
export function cacheRoot(): string {
  return process.env.PROMPTSCOPE_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'promptscope');
}

/** The folder one hub model lives in: <cache>/hub/<org>/<name>/<revision>. Users may fill it by hand. */
export function hubModelDir(id: HubId, root = cacheRoot()): string {
  const [org, name] = id.repo.split('/');
  return path.join(root, 'hub', org, name, encodeURIComponent(id.revision));
}
