import { BlockList, isIP } from 'node:net';

/**
 * Which peers may speak for a client: the reverse proxies whose `X-Forwarded-For` / `-Host` /
 * `-Proto` are believed. A header from any other peer is ignored, so a client cannot name its own
 * address (the login throttle and the audit log see the real peer) or its own host.
 */
export type ProxyTrust = (address: string | undefined) => boolean;

/** Named ranges, as proxy-addr (Fastify's `trustProxy`) names them. */
const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Why one entry of a proxy list is not an address, a CIDR range or a named range; null when it is. */
export function proxyEntryProblem(entry: string): string | null {
  if (NAMED[entry]) return null;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length)
    return `"${entry}" is not an IP address, a CIDR range (10.0.0.0/8) or one of ${Object.keys(NAMED).join(', ')}`;
  if (prefix === undefined) return null;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `"${entry}": the prefix length must be 0–${max}`;
  return null;
}

/** Splits a comma-separated proxy list (spaces allowed, empty entries ignored). */
export function splitProxyList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A check for the given addresses, CIDR ranges and named ranges; an empty list trusts nobody. */
export function createProxyTrust(entries: readonly string[]): ProxyTrust {
  if (!entries.length) return () => false;
  const list = new BlockList();
  for (const entry of entries.flatMap((e) => NAMED[e] ?? [e])) {
    const problem = proxyEntryProblem(entry);
    if (problem) throw new Error(`trusted proxies: ${problem}`);
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    if (!address) return false;
    const family = isIP(address);
    if (!family) return false;
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
