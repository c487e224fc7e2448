/** Logs in through POST /api/auth/login; returns the session cookie as a `Cookie` header value. */
export async function login(baseUrl: string, account: { username: string; password: string }): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: account.password }),
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200) throw new Error(`login as ${account.username} failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-pw_session='));
  if (!cookie) throw new Error(`login as ${account.username}: no session cookie in the answer`);
  return cookie.split(';')[0]!;
}
