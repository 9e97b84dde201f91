/** Checksums the hub lists: sha256 for LFS files, the git blob id (sha1) for files kept in git. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { TreeFile } from './hubTree';

async function digest(file: string, algorithm: 'sha256' | 'sha1', prefix?: string): Promise<string> {
  const hash = createHash(algorithm);
  if (prefix) hash.update(prefix);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** True when `file` is exactly what the listing describes (size always; the hash the hub gives). */
export async function matchesListing(file: string, entry: TreeFile): Promise<boolean> {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  if (size !== entry.size) return false;
  if (entry.sha256) return (await digest(file, 'sha256')) === entry.sha256;
  if (entry.oid && /^[0-9a-f]{40}$/.test(entry.oid)) return (await digest(file, 'sha1', `blob ${size}\0`)) === entry.oid;
  return true;
}
