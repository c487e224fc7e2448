import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '../core/logger.ts';

/**
 * A certificate and its private key (PEM files), and with `caFile` the CA whose client certificates
 * are trusted, read anew each time (so a renewed pair or CA is picked up).
 */
export function tlsFiles(certFile: string, keyFile: string, caFile?: string): () => SecureContextOptions {
  return () => ({
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    ...(caFile !== undefined ? { ca: readFileSync(caFile) } : {}),
  });
}

/**
 * Watches certificate and key files (polling their modification time every `intervalMs`; never keeps
 * the process alive) and calls `reload` when one changed. A pair that cannot be loaded (half
 * written, key and certificate not matching) is logged and the old one kept until the next change.
 */
export function watchTlsFiles(
  files: readonly string[],
  reload: () => void,
  log: Logger,
  intervalMs = 2000,
): { stop(): void } {
  const onChange = (cur: { mtimeMs: number }, prev: { mtimeMs: number }) => {
    if (cur.mtimeMs === prev.mtimeMs) return;
    try {
      reload();
      log.info({ files }, 'TLS certificate reloaded (new connections use it; open ones keep theirs)');
    } catch (err) {
      log.error({ err, files }, 'TLS certificate could not be reloaded: the previous one stays in use');
    }
  };
  for (const f of files) watchFile(f, { persistent: false, interval: intervalMs }, onChange);
  return {
    stop() {
      for (const f of files) unwatchFile(f, onChange);
    },
  };
}
