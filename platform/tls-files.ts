import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '../core/logger.ts';

/** Who may present a client certificate: the CA file, and the CRL file of revoked certificates (PEM). */
export interface ClientCaFiles {
  caFile: string;
  crlFile?: string | undefined;
}

/**
 * A certificate and its private key (PEM files), and with `clients` the CA whose client certificates
 * are trusted and the CRL they are checked against, read anew each time (so a renewed pair, CA or
 * CRL is picked up). With a CRL, OpenSSL wants one from every CA that issues client certificates:
 * a certificate whose CA has none in the file is refused (UNABLE_TO_GET_CRL).
 */
export function tlsFiles(certFile: string, keyFile: string, clients?: ClientCaFiles): () => SecureContextOptions {
  return () => ({
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    ...(clients ? { ca: readFileSync(clients.caFile) } : {}),
    ...(clients?.crlFile !== undefined ? { crl: readFileSync(clients.crlFile) } : {}),
  });
}

/** The files of a TLS context, to watch: certificate, key, and the client CA and CRL when given. */
export function tlsFileList(certFile: string, keyFile: string, clients?: ClientCaFiles): string[] {
  return [certFile, keyFile, ...(clients ? [clients.caFile] : []), ...(clients?.crlFile ? [clients.crlFile] : [])];
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
