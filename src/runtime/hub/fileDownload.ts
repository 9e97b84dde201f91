/**
 * One file from the hub into the cache: written to `<file>.part` beside its final place, resumed with an
 * HTTP Range request after a dropped connection (here or in a later run), verified against the listing,
 * and only then renamed into place. A `.part.json` beside it records which remote file the part belongs to,
 * so a part is never continued with bytes of a different version.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError } from '../../core/modelRunner';
import { matchesListing } from './checksum';
import { hubFetch, HubUnreachableError, networkError } from './hubHttp';
import { HubStatusError, serverMessage, type TreeFile } from './hubTree';

export interface DownloadOptions {
  token?: string;
  signal?: AbortSignal;
  /** Bytes of this file on disk so far (goes back to 0 when a download restarts). */
  onBytes?: (bytes: number) => void;
  /** Attempts per file after dropped connections (each resumes where the last stopped). */
  attempts?: number;
  /** A connection that sends nothing for this long is dropped and resumed. */
  idleMs?: number;
}

/** The bytes did not match the listing twice in a row. */
export class ChecksumError extends Error {
  constructor(readonly file: string) {
    super(`checksum mismatch for ${file}`);
    this.name = 'ChecksumError';
  }
}

interface PartMeta {
  sha256?: string;
  oid?: string;
  size: number;
  etag?: string;
}

export async function downloadFile(url: string, dest: string, entry: TreeFile, options: DownloadOptions = {}): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  // Up to two full passes: bytes that fail the checksum are thrown away and fetched once more.
  for (let pass = 0; pass < 2; pass++) {
    await fetchToPart(url, dest, entry, options);
    const part = dest + '.part';
    if (await matchesListing(part, entry)) {
      fs.renameSync(part, dest);
      fs.rmSync(dest + '.part.json', { force: true });
      return;
    }
    removePart(dest);
    options.onBytes?.(0);
  }
  throw new ChecksumError(entry.path);
}

function removePart(dest: string): void {
  fs.rmSync(dest + '.part', { force: true });
  fs.rmSync(dest + '.part.json', { force: true });
}

function readMeta(dest: string): PartMeta | undefined {
  try {
    return JSON.parse(fs.readFileSync(dest + '.part.json', 'utf8')) as PartMeta;
  } catch {
    return undefined;
  }
}

function partSize(dest: string): number {
  try {
    return fs.statSync(dest + '.part').size;
  } catch {
    return 0;
  }
}

async function fetchToPart(url: string, dest: string, entry: TreeFile, options: DownloadOptions): Promise<void> {
  const part = dest + '.part';
  const meta = readMeta(dest);
  const same = meta && meta.size === entry.size && meta.sha256 === entry.sha256 && meta.oid === entry.oid;
  if (!same) removePart(dest);
  let etag = same ? meta.etag : undefined;
  const attempts = options.attempts ?? 5;
  let lastCause = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (options.signal?.aborted) throw new CancelledError();
    let offset = partSize(dest);
    if (offset > entry.size) {
      removePart(dest);
      offset = 0;
    }
    options.onBytes?.(offset);
    if (offset === entry.size && entry.size > 0) return;
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      if (etag) headers['if-range'] = etag;
    }
    const idle = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), options.idleMs ?? 60_000);
    };
    arm();
    try {
      const res = await hubFetch(url, { token: options.token, headers, signal });
      if (res.status === 416) {
        await res.body?.cancel();
        removePart(dest);
        continue;
      }
      if (res.status !== 200 && res.status !== 206) {
        const error = new HubStatusError(res.status, url, serverMessage(await res.text().catch(() => '')));
        // A busy server or storage host: wait and try again, like a dropped connection.
        if ((res.status >= 500 || res.status === 429) && attempt < attempts - 1) {
          lastCause = `HTTP ${res.status}`;
          await pause(attempt);
          continue;
        }
        throw error;
      }
      if (res.status === 206 && contentRangeStart(res.headers.get('content-range')) !== offset) {
        // A range we did not ask for: start this file again from its first byte.
        await res.body?.cancel();
        removePart(dest);
        etag = undefined;
        continue;
      }
      const append = res.status === 206;
      if (!append) offset = 0;
      etag = res.headers.get('etag') ?? undefined;
      fs.writeFileSync(dest + '.part.json', JSON.stringify({ sha256: entry.sha256, oid: entry.oid, size: entry.size, etag } satisfies PartMeta));
      const fd = fs.openSync(part, append ? 'a' : 'w');
      try {
        let written = offset;
        for await (const chunk of res.body ?? []) {
          arm();
          const buf = chunk as Uint8Array;
          // More bytes than listed: the file on the server is not the one listed; stop and let the check decide.
          const keep = Math.min(buf.length, entry.size - written);
          if (keep > 0) fs.writeSync(fd, buf, 0, keep);
          written += keep;
          options.onBytes?.(written);
          if (keep < buf.length) break;
        }
      } finally {
        fs.closeSync(fd);
      }
      if (partSize(dest) >= entry.size) return;
      lastCause = 'the connection closed before the end of the file';
    } catch (err) {
      if (err instanceof HubStatusError || err instanceof CancelledError) throw err;
      if (options.signal?.aborted) throw new CancelledError();
      lastCause = idle.signal.aborted ? `no data for ${Math.round((options.idleMs ?? 60_000) / 1000)} s` : networkError(err).message;
    } finally {
      clearTimeout(timer);
    }
    await pause(attempt);
  }
  throw new HubUnreachableError(lastCause || 'the download kept failing');
}

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
}

function contentRangeStart(header: string | null): number | undefined {
  const m = header?.match(/^bytes (\d+)-/);
  return m ? Number(m[1]) : undefined;
}
