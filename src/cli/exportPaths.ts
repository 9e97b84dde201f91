/**
 * Export paths (--html, --csv) are checked before the model runs, so that a long explanation is not lost to a
 * typo in a path, and a failed write is one clear line rather than a stack trace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args';

function reason(err: unknown, file: string): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT': return `the folder ${path.dirname(path.resolve(file))} does not exist`;
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'EISDIR': return 'it is a folder; name a file inside it';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOSPC': return 'the disk is full';
    default: return (err as Error).message;
  }
}

const refuse = (flag: string, file: string, err: unknown): UsageError =>
  new UsageError(`Cannot write ${flag} ${file}: ${reason(err, file)}. Choose a file in a folder you can write to.`);

/** Throws a UsageError naming the flag when `file` cannot be created or overwritten; leaves no file behind. */
export function checkWritable(flag: string, file: string): void {
  let existed = false;
  try {
    existed = fs.existsSync(file);
    if (existed && fs.statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (err) {
    throw refuse(flag, file, err);
  }
  if (!existed) fs.rmSync(file, { force: true });
}

export function writeExport(flag: string, file: string, content: string): void {
  try {
    fs.writeFileSync(file, content);
  } catch (err) {
    throw refuse(flag, file, err);
  }
}
