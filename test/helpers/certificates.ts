import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** The CA's certificate file (what clients trust). */
  caFile: string;
  /** A server certificate for 127.0.0.1 and localhost, signed by the CA, and its key. */
  certFile: string;
  keyFile: string;
  ca: Buffer;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/**
 * A throw-away certificate authority and a server certificate signed by it, made with Debian's
 * openssl (EC P-256: fast).
 */
export function makeTestPki(options: { dir?: string; name?: string } = {}): TestPki {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pw-pki-'));
  const n = options.name ?? 'test';
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ['req', '-x509', ...ec, '-keyout', `${n}-ca.key`, '-out', `${n}-ca.pem`, '-days', '2', '-subj', `/CN=${n} test CA`],
    dir,
  );
  openssl(['req', ...ec, '-keyout', `${n}-server.key`, '-out', `${n}-server.csr`, '-subj', '/CN=127.0.0.1'], dir);
  const ext = join(dir, `${n}-ext.cnf`);
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${ext}'`]);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${n}-server.csr`,
      '-CA',
      `${n}-ca.pem`,
      '-CAkey',
      `${n}-ca.key`,
      '-CAcreateserial',
      '-out',
      `${n}-server.pem`,
      '-extfile',
      ext,
      '-days',
      '2',
    ],
    dir,
  );
  const caFile = join(dir, `${n}-ca.pem`);
  return {
    dir,
    caFile,
    certFile: join(dir, `${n}-server.pem`),
    keyFile: join(dir, `${n}-server.key`),
    ca: readFileSync(caFile),
  };
}
