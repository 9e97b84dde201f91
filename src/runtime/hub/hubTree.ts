/** The hub's file listing (`/api/models/{id}/tree/{revision}`): paths, sizes, git oids and LFS sha256s. */
import type { HubId } from './hubId';
import { hubFetch, networkError } from './hubHttp';

export interface TreeFile {
  path: string;
  size: number;
  /** Git blob id (sha1 of "blob <size>\0" + content): verifies small files stored in git itself. */
  oid?: string;
  /** LFS files: sha256 of the content. */
  sha256?: string;
}

export class HubStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly serverMessage: string,
  ) {
    super(`HTTP ${status}`);
    this.name = 'HubStatusError';
  }
}

interface RawEntry {
  type?: string;
  path?: string;
  size?: number;
  oid?: string;
  lfs?: { oid?: string; size?: number };
}

export function resolveUrl(endpoint: string, id: HubId, file: string): string {
  return `${endpoint}/${id.repo}/resolve/${encodeURIComponent(id.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

export async function listTree(endpoint: string, id: HubId, token: string | undefined, signal?: AbortSignal): Promise<TreeFile[]> {
  const files: TreeFile[] = [];
  let url: string | undefined = `${endpoint}/api/models/${id.repo}/tree/${encodeURIComponent(id.revision)}?recursive=true&expand=false`;
  for (let page = 0; url && page < 1000; page++) {
    const res = await hubFetch(url, { token, signal, headers: { accept: 'application/json' } });
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw networkError(err, signal);
    }
    if (!res.ok) throw new HubStatusError(res.status, url, serverMessage(text));
    let entries: RawEntry[];
    try {
      entries = JSON.parse(text) as RawEntry[];
      if (!Array.isArray(entries)) throw new Error('not a list');
    } catch {
      throw new HubStatusError(res.status, url, `the file listing is not JSON (${text.slice(0, 80)})`);
    }
    for (const e of entries) {
      if (e.type !== 'file' || typeof e.path !== 'string') continue;
      const sha256 = e.lfs?.oid && /^[0-9a-f]{64}$/.test(e.lfs.oid) ? e.lfs.oid : undefined;
      files.push({ path: e.path, size: Number(e.lfs?.size ?? e.size ?? 0), oid: sha256 ? undefined : e.oid, sha256 });
    }
    url = nextLink(res.headers.get('link'), url);
  }
  return files;
}

function nextLink(link: string | null, base: string): string | undefined {
  const m = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  return m ? new URL(m[1], base).href : undefined;
}

export function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    /* plain text */
  }
  return body.trim().slice(0, 200);
}
