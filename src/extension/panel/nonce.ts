import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce per HTML load (base64 of 16 random bytes). */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}
