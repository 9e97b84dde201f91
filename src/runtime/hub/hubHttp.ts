/**
 * HTTP for the hub: fetch with redirects followed by hand, so that the token is sent only to the hub's own
 * origin (never to the storage host it redirects to) and Range headers survive every hop.
 */
import { CancelledError } from '../../core/modelRunner';

/** The hub could not be reached at all (no network, DNS, refused connection, a dropped stream). */
export class HubUnreachableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'HubUnreachableError';
  }
}

export interface HubFetchOptions {
  token?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;

export async function hubFetch(url: string, options: HubFetchOptions = {}): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token && new URL(current).origin === origin) headers.authorization = `Bearer ${options.token}`;
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', signal: options.signal });
    } catch (err) {
      throw networkError(err, options.signal);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    return res;
  }
  throw new HubUnreachableError(`more than ${MAX_REDIRECTS} redirects from ${url}`);
}

/** Turns what fetch throws into a cancellation or an "unreachable" with a short cause (no headers, no token). */
export function networkError(err: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return new CancelledError();
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return new HubUnreachableError(cause);
}
