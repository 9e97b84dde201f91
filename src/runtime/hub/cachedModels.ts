/** Hub models already in the cache (a manifest in <cache>/hub/<org>/<name>/<revision>), as ids to offer again. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST } from './hubModel';
import { formatHubId } from './hubId';
import { cacheRoot } from './hubSettings';

export function listCachedHubModels(root = cacheRoot()): string[] {
  const hub = path.join(root, 'hub');
  const ids: string[] = [];
  for (const org of subdirs(hub)) {
    for (const name of subdirs(path.join(hub, org))) {
      for (const rev of subdirs(path.join(hub, org, name))) {
        if (fs.existsSync(path.join(hub, org, name, rev, MANIFEST))) ids.push(formatHubId({ repo: `${org}/${name}`, revision: decodeURIComponent(rev) }));
      }
    }
  }
  return ids.sort();
}

function subdirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}
