import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cookieValue, foreignOrigin } from '../../web/live/handshake.ts';
import { createProxyTrust } from '../../web/proxy-trust.ts';

const req = (headers: Record<string, string>, encrypted = false, remoteAddress = '10.0.0.2') =>
  ({ headers, socket: { encrypted, remoteAddress } }) as unknown as IncomingMessage;
const nobody = () => false;

/** The pure parts of the live layer's handshake (web/live/handshake.ts). */
describe('live handshake: origin check', () => {
  it('accepts a request that is not from a browser page (no Origin) and one from the console’s own site', () => {
    expect(foreignOrigin(req({ host: 'console.example:8080' }), nobody)).toBeNull();
    expect(
      foreignOrigin(req({ host: 'console.example:8080', origin: 'http://console.example:8080' }), nobody),
    ).toBeNull();
    // a default port is dropped on both sides
    expect(
      foreignOrigin(req({ host: 'console.example:443', origin: 'https://console.example' }, true), nobody),
    ).toBeNull();
  });

  it('refuses another site, an unreadable Origin and Sec-Fetch-Site: cross-site', () => {
    expect(foreignOrigin(req({ host: 'console.example', origin: 'http://evil.example' }), nobody)).toMatch(
      /Origin http:\/\/evil\.example/,
    );
    expect(foreignOrigin(req({ host: 'console.example', origin: 'not a url' }), nobody)).toMatch(/unreadable Origin/);
    expect(foreignOrigin(req({ host: 'console.example', 'sec-fetch-site': 'cross-site' }), nobody)).toBe(
      'cross-site connection refused',
    );
  });

  it('reads X-Forwarded-Host / -Proto only behind a trusted proxy', () => {
    const proxied = req({
      host: 'internal:8080',
      origin: 'https://console.example',
      'x-forwarded-host': 'console.example, internal',
      'x-forwarded-proto': 'https',
    });
    expect(foreignOrigin(proxied, createProxyTrust(['10.0.0.2']))).toBeNull();
    expect(foreignOrigin(proxied, createProxyTrust(['10.0.0.0/8']))).toBeNull();
    expect(foreignOrigin(proxied, nobody)).not.toBeNull();
    // the same headers from a peer that is not a trusted proxy are ignored
    expect(foreignOrigin(proxied, createProxyTrust(['10.0.0.3', 'loopback']))).not.toBeNull();
  });
});

describe('live handshake: cookie header', () => {
  it('finds a cookie by exact name, URL-decoded, and keeps a value that is not valid URL encoding', () => {
    expect(cookieValue('a=1; pw_session=abc%2Bd; b=2', 'pw_session')).toBe('abc+d');
    expect(cookieValue('xpw_session=1; pw_session=2', 'pw_session')).toBe('2');
    expect(cookieValue('pw_session=%E0%A4%A', 'pw_session')).toBe('%E0%A4%A');
    expect(cookieValue('flag; other=1', 'pw_session')).toBeUndefined();
    expect(cookieValue(undefined, 'pw_session')).toBeUndefined();
  });
});
