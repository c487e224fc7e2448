import { loadConfigOrExit } from './startup.ts';

/**
 * `node dist/platform/healthcheck.js`: the container's health check (the image has no curl). Asks
 * the running platform's `/healthz` on HTTP_PORT (loopback when HTTP_HOST is a wildcard) and exits
 * 0 when it answers 200, 1 otherwise.
 */
async function main() {
  const { HTTP_HOST, HTTP_PORT } = loadConfigOrExit(process.env);
  const host = HTTP_HOST === '0.0.0.0' || HTTP_HOST === '::' ? '127.0.0.1' : HTTP_HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${HTTP_PORT}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    if (!res.ok) console.error(`${url} answered ${res.status}`);
    process.exit(res.ok ? 0 : 1);
  } catch (err) {
    console.error(`${url}: ${(err as Error).message}`);
    process.exit(1);
  }
}

void main();
