/**
 * A hub-shaped HTTP server on 127.0.0.1 for download tests, serving repositories made from local folders:
 * `/api/models/{id}/tree/{rev}` (paged with Link headers, sizes, git oids, LFS sha256), and
 * `/{id}/resolve/{rev}/{file}` which redirects LFS files to a storage path that honours Range / If-Range
 * and sends ETags. Faults are switched on per test: dropped connections, corrupt bytes, missing files,
 * gated repositories, and refusing every request (offline).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface ServedFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  gitOid: string;
  lfs: boolean;
}

export interface Logged {
  method: string;
  url: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
  host?: string;
}

export interface Faults {
  /** path → bytes after which the connection is destroyed, once. */
  dropAfter: Map<string, number>;
  /** paths served with one flipped byte, for the next N downloads. */
  corrupt: Map<string, number>;
  /** paths listed in the tree that answer 404. */
  missing: Set<string>;
  /** repo → token it accepts; other requests get 401. */
  gated: Map<string, string>;
  /** Gated repositories list their files to anyone and refuse only the downloads (as the hub does). */
  gatedFilesOnly?: boolean;
  /** path → how many more downloads answer 503. */
  busy?: Map<string, number>;
  /** paths sent slowly (64 kB every 20 ms), so a test can act in the middle of the file. */
  slow?: Set<string>;
}

export class HubServer {
  readonly repos = new Map<string, ServedFile[]>();
  readonly log: Logged[] = [];
  faults: Faults = { dropAfter: new Map(), corrupt: new Map(), missing: new Set(), gated: new Map() };
  pageSize = 4;
  private server?: http.Server;
  /** LFS bytes come from a second port: another origin, as the hub's storage host is. */
  private storageServer?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  /** Adds a repository from a folder; `skip` leaves out paths (eval data, references…), `extra` adds files. */
  addRepo(repo: string, dir: string, options: { skip?: RegExp; extra?: Record<string, Buffer> } = {}): void {
    const files: ServedFile[] = [];
    const walk = (rel: string) => {
      for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${d.name}` : d.name;
        if (options.skip?.test(p)) continue;
        if (d.isDirectory()) walk(p);
        else files.push(served(p, fs.readFileSync(path.join(dir, p))));
      }
    };
    walk('');
    for (const [p, bytes] of Object.entries(options.extra ?? {})) files.push(served(p, bytes));
    this.repos.set(repo, files);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  get storageUrl(): string {
    return `http://127.0.0.1:${(this.storageServer!.address() as AddressInfo).port}`;
  }

  requests(filter?: (l: Logged) => boolean): Logged[] {
    return filter ? this.log.filter(filter) : this.log;
  }

  async start(): Promise<void> {
    const listen = async () => {
      const server = http.createServer((req, res) => this.handle(req, res));
      server.on('connection', (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    };
    this.server = await listen();
    this.storageServer = await listen();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const server of [this.server, this.storageServer]) await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    this.server = this.storageServer = undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.log.push({ method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, authorization: req.headers.authorization, host: req.headers.host });
    const tree = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/);
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const storage = url.pathname.match(/^\/storage\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/);
    if (tree) return this.tree(req, res, decodeURIComponent(tree[1]), url);
    if (resolve) return this.resolve(req, res, resolve[1], decodeURIComponent(resolve[3]));
    if (storage) return this.storage(req, res, storage[1], storage[2]);
    json(res, 404, { error: 'Not found' });
  }

  private allowed(req: http.IncomingMessage, res: http.ServerResponse, repo: string, listing = false): boolean {
    const files = this.repos.get(repo);
    if (!files) {
      json(res, 404, { error: 'Repository not found' });
      return false;
    }
    const token = this.faults.gated.get(repo);
    if (token && !(listing && this.faults.gatedFilesOnly) && req.headers.authorization !== `Bearer ${token}`) {
      json(res, 401, { error: 'Access to model is restricted. You must have access to it and be authenticated to access it.' });
      return false;
    }
    return true;
  }

  private tree(req: http.IncomingMessage, res: http.ServerResponse, repo: string, url: URL): void {
    if (!this.allowed(req, res, repo, true)) return;
    const files = this.repos.get(repo)!;
    const start = Number(url.searchParams.get('cursor') ?? 0);
    const page = files.slice(start, start + this.pageSize).map((f) => ({
      type: 'file',
      oid: f.gitOid,
      size: f.bytes.length,
      path: f.path,
      ...(f.lfs && { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } }),
    }));
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
    if (start + this.pageSize < files.length) {
      const next = new URL(url.href);
      next.searchParams.set('cursor', String(start + this.pageSize));
      headers.link = `<${this.url}${next.pathname}${next.search}>; rel="next"`;
    }
    res.writeHead(200, headers).end(JSON.stringify(page));
  }

  private resolve(req: http.IncomingMessage, res: http.ServerResponse, repo: string, file: string): void {
    if (!this.allowed(req, res, repo)) return;
    const f = this.repos.get(repo)!.find((x) => x.path === file);
    if (!f || this.faults.missing.has(file)) return json(res, 404, { error: 'Entry not found' });
    if (f.lfs) {
      // As the hub does for LFS files: a redirect to the storage host, with the content's hash as ETag.
      res.writeHead(302, { location: `${this.storageUrl}/storage/${repo}/${f.sha256}?signature=abc`, 'x-linked-etag': `"${f.sha256}"`, 'x-linked-size': f.bytes.length }).end();
      return;
    }
    this.send(req, res, f, `"${f.gitOid}"`);
  }

  private storage(req: http.IncomingMessage, res: http.ServerResponse, repo: string, sha: string): void {
    const f = this.repos.get(repo)?.find((x) => x.sha256 === sha);
    if (!f) return json(res, 404, { error: 'Not found' });
    this.send(req, res, f, `"${f.sha256}"`);
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, f: ServedFile, etag: string): void {
    const busy = this.faults.busy?.get(f.path) ?? 0;
    if (busy > 0) {
      this.faults.busy!.set(f.path, busy - 1);
      return json(res, 503, { error: 'Service temporarily unavailable' });
    }
    let bytes = f.bytes;
    const corrupt = this.faults.corrupt.get(f.path) ?? 0;
    if (corrupt > 0) {
      this.faults.corrupt.set(f.path, corrupt - 1);
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    let start = 0;
    const range = req.headers.range?.match(/^bytes=(\d+)-$/);
    const ifRange = req.headers['if-range'];
    if (range && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
    }
    const body = bytes.subarray(start);
    const headers: http.OutgoingHttpHeaders = { etag, 'accept-ranges': 'bytes', 'content-length': body.length, 'content-type': 'application/octet-stream' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    const drop = this.faults.dropAfter.get(f.path);
    if (drop !== undefined && drop - start > 0 && drop - start < body.length) {
      this.faults.dropAfter.delete(f.path);
      res.write(body.subarray(0, drop - start), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (this.faults.slow?.has(f.path)) {
      let at = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, (at += 65536)));
        setTimeout(tick, 20);
      };
      return tick();
    }
    res.end(body);
  }
}

function served(p: string, bytes: Buffer): ServedFile {
  return {
    path: p,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    gitOid: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
    lfs: /\.onnx(_data(_\d+)?)?$/.test(p) || bytes.length > 1_000_000,
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
