import type { Rejection } from './types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Step 1, decode: size limit, UTF-8, JSON. Never throws. */
export function decode(
  payload: Buffer,
  maxBytes: number,
): { ok: true; value: unknown } | { ok: false; rejection: Rejection } {
  if (payload.length > maxBytes) {
    return {
      ok: false,
      rejection: { code: 'payload_too_large', message: `payload is ${payload.length} bytes; the limit is ${maxBytes}` },
    };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, rejection: { code: 'malformed_json', message: 'payload is not valid UTF-8' } };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const detail = err instanceof RangeError ? 'nested too deeply' : err instanceof Error ? err.message : 'parse error';
    return { ok: false, rejection: { code: 'malformed_json', message: `payload is not valid JSON: ${detail}` } };
  }
}
