/**
 * The console's HTTP client: JSON in and out, the session cookie sent by the browser, the CSRF
 * token added to every state-changing request, errors turned into `ApiError` with the platform's
 * stable code. A 401 anywhere means the session ended: the app goes back to the login page.
 */
import { errorWords } from './i18n.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** VALIDATION_FAILED: each wrong field (`body.contacts.0.phone`) and the server's reason. */
    readonly fields: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
const sessionEndedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any request answers 401 (the session expired, was ended or the account disabled). */
export function onSessionEnded(fn: () => void): () => void {
  sessionEndedListeners.add(fn);
  return () => void sessionEndedListeners.delete(fn);
}

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** A body sent as it is (a photo's bytes) with its own content type, not as JSON. */
interface RawBody {
  raw: Blob;
  type: string;
}

/** The sign-in routes, whose 401 is a refusal, not the end of a session. */
const SIGN_IN = new Set(['/api/auth/login', '/api/guest/login']);

async function request<T>(method: string, path: string, body?: unknown, query?: Query, raw?: RawBody): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (raw) headers['content-type'] = raw.type;
  else if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(withQuery(path, query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(raw ? { body: raw.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The platform cannot be reached. Check the connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: handled below
  }
  if (!res.ok) {
    const err = (
      data as { error?: { code?: string; message?: string; fields?: { path: string; message: string }[] } } | undefined
    )?.error;
    if (res.status === 401 && !SIGN_IN.has(path)) for (const fn of sessionEndedListeners) fn();
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? res.statusText,
      Array.isArray(err?.fields) ? err.fields : [],
    );
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, undefined, query),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  del: <T = void>(path: string) => request<T>('DELETE', path),
  /** POST the bytes of a file as the body, with the file's own type (a session photo). */
  upload: <T>(path: string, file: Blob, type: string, query?: Query) =>
    request<T>('POST', path, undefined, query, { raw: file, type }),
};

/**
 * Every item of a keyset-paged list (`{[key]: T[], nextCursor}`), following `nextCursor` page by
 * page with the same filters, up to `maxPages` pages.
 */
export async function allPages<T>(path: string, key: string, query: Query = {}, maxPages = 20): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: Record<string, unknown> & { nextCursor?: string | null } = await api.get(path, {
      ...query,
      ...(cursor ? { cursor } : {}),
    });
    items.push(...((page[key] as T[] | undefined) ?? []));
    cursor = page.nextCursor ?? null;
    if (!cursor) break;
  }
  return items;
}

/** A user-facing message for any error thrown by `api`. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const words = errorWords(err.code);
    if (words) return words;
    return err.status ? `${err.message} (${err.code})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
