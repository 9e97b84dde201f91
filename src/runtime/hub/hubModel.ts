/**
 * A hub id as a local model folder. The first use lists the repository, downloads the files the chosen
 * variant needs, verifies each one, and records the verified set in a manifest; later uses find every
 * needed file verified in the manifest and make no request at all, so hub models work offline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError } from '../../core/modelRunner';
import { withCacheLock } from './cacheLock';
import { matchesListing } from './checksum';
import { ChecksumError, downloadFile } from './fileDownload';
import * as errors from './hubErrors';
import { formatHubId, type HubId } from './hubId';
import { HubUnreachableError } from './hubHttp';
import { cacheRoot, hubEndpoint, hubModelDir, hubToken } from './hubSettings';
import { HubStatusError, listTree, resolveUrl, type TreeFile } from './hubTree';
import type { VariantPurpose } from '../variantChoice';
import { neededFiles, type NeededFiles } from './neededFiles';

export interface HubModelOptions {
  variant?: string;
  /** What the model is for: `auto` picks the variant that serves it best (see ../variantChoice.ts). */
  purpose?: VariantPurpose;
  /** The promptscope.hubEndpoint setting; HF_ENDPOINT and the public hub otherwise. */
  endpoint?: string;
  /** Cache root (default: PROMPTSCOPE_CACHE_DIR or ~/.cache/promptscope). */
  cacheRoot?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface HubModel {
  dir: string;
  /** The ONNX file, relative to dir. */
  onnx: string;
  variant: string;
  /** Why this variant. */
  reason: string;
  /** Bytes downloaded by this call (0 when everything came from the cache). */
  downloadedBytes: number;
}

export const MANIFEST = '.promptscope-hub.json';

interface Manifest {
  repo: string;
  revision: string;
  files: TreeFile[];
  /** Paths whose bytes were checked against `files`. */
  verified: string[];
  /** What `auto` picked per purpose when it downloaded, so later runs reuse it (free memory varies). */
  auto?: Partial<Record<VariantPurpose, { variant: string; reason: string }>>;
}

export async function ensureHubModel(id: HubId, options: HubModelOptions = {}): Promise<HubModel> {
  const dir = hubModelDir(id, options.cacheRoot ?? cacheRoot());
  const endpoint = hubEndpoint(options.endpoint);
  const token = hubToken();
  const ctx: errors.HubContext = { label: formatHubId(id), endpoint, dir, hasToken: !!token };
  const variant = options.variant ?? 'auto';
  const purpose = options.purpose ?? 'forward';

  const fromCache = (): HubModel | undefined => {
    const cached = readManifest(dir);
    if (!cached) return undefined;
    let earlier = variant === 'auto' ? cached.auto?.[purpose] : undefined;
    let need: NeededFiles;
    try {
      need = neededFiles(cached.files, earlier?.variant ?? variant, ctx.label, purpose);
    } catch (err) {
      if (!earlier) throw err;
      earlier = undefined; // the listing changed since: choose again
      need = neededFiles(cached.files, variant, ctx.label, purpose);
    }
    const reason = earlier?.reason ?? need.reason;
    return need.files.every((p) => isVerified(dir, cached, p)) ? { dir, onnx: need.onnx, variant: need.variant, reason, downloadedBytes: 0 } : undefined;
  };
  const ready = fromCache();
  if (ready) return ready;
  try {
    return await withCacheLock(dir, async () => fromCache() ?? (await download(id, dir, endpoint, token, ctx, variant, options)), {
      signal: options.signal,
      onWait: () => options.onProgress?.(0, 0, `Downloading ${ctx.label}: waiting for another Promptscope process that is downloading it`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && !(err instanceof HubUnreachableError)) throw errors.cannotWrite(ctx, code, (err as Error).message);
    throw err;
  }
}

async function download(id: HubId, dir: string, endpoint: string, token: string | undefined, ctx: errors.HubContext, variant: string, options: HubModelOptions): Promise<HubModel> {
  const cached = readManifest(dir);
  const purpose = options.purpose ?? 'forward';
  let tree: TreeFile[];
  try {
    tree = await listTree(endpoint, id, token, options.signal);
  } catch (err) {
    if (err instanceof HubUnreachableError) {
      const local = cached ? presentAsListed(dir, cached, variant, purpose) : filesPlacedByHand(dir, variant, purpose);
      if (local) return { dir, onnx: local.onnx, variant: local.variant, reason: local.reason, downloadedBytes: 0 };
      throw errors.unreachable(ctx, err.reason, hasParts(dir));
    }
    throw mapStatus(err, ctx);
  }

  const need = neededFiles(tree, variant, ctx.label, purpose);
  const byPath = new Map(tree.map((f) => [f.path, f]));
  // Keep what was verified against the same listing entry; anything the hub changed is checked again.
  const manifest: Manifest = {
    repo: id.repo,
    revision: id.revision,
    files: tree,
    auto: cached?.auto,
    verified: (cached?.verified ?? []).filter((p) => {
      const before = cached?.files.find((f) => f.path === p);
      const now = byPath.get(p);
      return before && now && before.size === now.size && before.sha256 === now.sha256 && before.oid === now.oid;
    }),
  };
  fs.mkdirSync(dir, { recursive: true });
  writeManifest(dir, manifest);

  const entries = need.files.map((p) => byPath.get(p)!);
  const total = entries.reduce((s, e) => s + e.size, 0);
  let finished = 0;
  let downloadedBytes = 0;
  let lastReport = 0;
  const report = (file: string, current: number, force = false) => {
    const now = Date.now();
    if (!force && now - lastReport < 100) return;
    lastReport = now;
    options.onProgress?.(finished + current, total, `Downloading ${ctx.label}: ${file} · ${megabytes(finished + current)} of ${megabytes(total)}`);
  };

  for (const entry of entries) {
    const dest = path.join(dir, ...entry.path.split('/'));
    if (isVerified(dir, manifest, entry.path) || (fs.existsSync(dest) && (await matchesListing(dest, entry)))) {
      markVerified(dir, manifest, entry.path);
      finished += entry.size;
      continue;
    }
    // A final file that does not match the listing is replaced; until then it must not look complete.
    fs.rmSync(dest, { force: true });
    report(entry.path, 0, true);
    let got = 0;
    try {
      await downloadFile(resolveUrl(endpoint, id, entry.path), dest, entry, {
        token,
        signal: options.signal,
        onBytes: (bytes) => {
          got = bytes;
          report(entry.path, bytes);
        },
      });
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      if (err instanceof ChecksumError) throw errors.checksum(ctx, entry.path);
      if (err instanceof HubUnreachableError) throw errors.unreachable(ctx, err.reason, true);
      if (err instanceof HubStatusError) {
        if (err.status === 401 || err.status === 403) throw errors.refused(ctx, err.status);
        throw errors.fileFailed(ctx, entry.path, err.status, err.serverMessage);
      }
      throw err;
    }
    downloadedBytes += got;
    finished += entry.size;
    markVerified(dir, manifest, entry.path);
    report(entry.path, 0, true);
  }
  if (variant === 'auto') {
    manifest.auto = { ...cached?.auto, [purpose]: { variant: need.variant, reason: need.reason } };
    writeManifest(dir, manifest);
  }
  return { dir, onnx: need.onnx, variant: need.variant, reason: need.reason, downloadedBytes };
}

function mapStatus(err: unknown, ctx: errors.HubContext): Error {
  if (!(err instanceof HubStatusError)) return err as Error;
  if (err.status === 401 || err.status === 403) return errors.refused(ctx, err.status);
  if (err.status === 404) return errors.notFound(ctx, err.serverMessage);
  return errors.badStatus(ctx, err.status, err.serverMessage);
}

function readManifest(dir: string): Manifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    return Array.isArray(m.files) && Array.isArray(m.verified) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary name and renamed, so a reader never sees half a manifest. */
function writeManifest(dir: string, m: Manifest): void {
  const tmp = path.join(dir, `${MANIFEST}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(m, null, 1));
  fs.renameSync(tmp, path.join(dir, MANIFEST));
}

function markVerified(dir: string, m: Manifest, file: string): void {
  if (!m.verified.includes(file)) m.verified.push(file);
  writeManifest(dir, m);
}

/** Verified once and still there with the listed size (re-hashing gigabytes on every start would be slow). */
function isVerified(dir: string, m: Manifest, file: string): boolean {
  if (!m.verified.includes(file)) return false;
  const entry = m.files.find((f) => f.path === file);
  try {
    return !!entry && fs.statSync(path.join(dir, ...file.split('/'))).size === entry.size;
  } catch {
    return false;
  }
}

/** Offline after an unfinished download: every needed file is there with its listed size (put there by hand). */
function presentAsListed(dir: string, m: Manifest, variant: string, purpose: VariantPurpose): NeededFiles | undefined {
  const need = neededFiles(m.files, variant, undefined, purpose);
  const ok = need.files.every((p) => {
    try {
      return fs.statSync(path.join(dir, ...p.split('/'))).size === m.files.find((f) => f.path === p)?.size;
    } catch {
      return false;
    }
  });
  return ok ? need : undefined;
}

/** Offline with a folder the user filled by hand: use it if it holds what the variant needs. */
function filesPlacedByHand(dir: string, variant: string, purpose: VariantPurpose): NeededFiles | undefined {
  const files = listLocal(dir).map((p) => ({ path: p, size: fs.statSync(path.join(dir, p)).size }));
  try {
    return neededFiles(files, variant, undefined, purpose);
  } catch {
    return undefined;
  }
}

function listLocal(dir: string, prefix = ''): string[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(path.join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  return names.flatMap((d) => {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) return prefix ? [] : listLocal(dir, rel);
    return d.name.endsWith('.part') || d.name.endsWith('.part.json') ? [] : [rel];
  });
}

function hasParts(dir: string): boolean {
  return listAll(dir).some((f) => f.endsWith('.part'));
}

function listAll(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
}

function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
