import { describeError, permanent, retry, type SendResult } from './channel.ts';

export interface HttpAnswer {
  status: number;
  text: string;
}

/** Milliseconds of a `Retry-After` header (seconds or an HTTP date), if any. */
function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * POSTs JSON with a timeout. A network failure or timeout is `retry`; otherwise `judge` reads the
 * answer (status, body). The URL is never put in an error: robots' URLs carry their access token.
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  judge: (answer: HttpAnswer) => SendResult,
): Promise<SendResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as { name?: string; cause?: unknown };
    if (e.name === 'TimeoutError') return retry(`no answer within ${timeoutMs} ms`);
    return retry(describeError(e.cause ?? err));
  }
  let text = '';
  try {
    text = (await res.text()).slice(0, 2000);
  } catch (err) {
    return retry(`reading the answer failed: ${describeError(err)}`);
  }
  if (res.status === 429 || res.status === 503) {
    const after = retryAfterMs(res.headers.get('retry-after'), Date.now());
    return retry(`HTTP ${res.status}`, after);
  }
  if (res.status >= 300 && res.status < 400) return permanent(`HTTP ${res.status} redirect (not followed)`);
  return judge({ status: res.status, text });
}

/** The `errcode` of a DingTalk or WeCom answer (both HTTP 200 with `{errcode, errmsg}`). */
export function robotAnswer(a: HttpAnswer): { errcode: number; errmsg: string } | undefined {
  try {
    const v = JSON.parse(a.text) as { errcode?: unknown; errmsg?: unknown };
    if (typeof v.errcode !== 'number') return undefined;
    return { errcode: v.errcode, errmsg: typeof v.errmsg === 'string' ? v.errmsg.slice(0, 200) : '' };
  } catch {
    return undefined;
  }
}
