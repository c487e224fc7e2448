import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCerts } from '../../platform/certs.ts';

/** Issue 19: `npm run certs` issues a project CA, vehicle client certificates (CN = id) and a server certificate. */
let dir: string;
const openssl = (args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-certs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run certs', () => {
  it('makes a CA, vehicle certificates and a server certificate that openssl verifies for their purpose', () => {
    runCerts(['ca', '--out', join(dir, 'ca'), '--name', 'Fleet CA']);
    expect(runCerts(['vehicle', 'VEH-1', 'VEH_2', '--ca', join(dir, 'ca'), '--out', join(dir, 'v')])).toEqual([
      `wrote ${join(dir, 'v', 'VEH-1.pem')}`,
      `wrote ${join(dir, 'v', 'VEH-1.key')}`,
      `wrote ${join(dir, 'v', 'VEH_2.pem')}`,
      `wrote ${join(dir, 'v', 'VEH_2.key')}`,
    ]);
    runCerts(['server', '--host', 'mqtt.example.com,127.0.0.1', '--ca', join(dir, 'ca'), '--out', join(dir, 's')]);

    const ca = new X509Certificate(readFileSync(join(dir, 'ca', 'ca.pem')));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toMatch(/CN=Fleet CA/);
    const veh = new X509Certificate(readFileSync(join(dir, 'v', 'VEH-1.pem')));
    expect(veh.subject).toBe('CN=VEH-1');
    expect(veh.ca).toBe(false);
    expect(veh.checkIssued(ca)).toBe(true);
    expect(veh.verify(ca.publicKey)).toBe(true);
    expect(veh.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // TLS client authentication only
    const server = new X509Certificate(readFileSync(join(dir, 's', 'server.pem')));
    expect(server.subjectAltName).toBe('DNS:mqtt.example.com, IP Address:127.0.0.1');
    expect(server.checkHost('mqtt.example.com')).toBe('mqtt.example.com');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');

    const ok = (args: string[]) => expect(openssl(args).stdout).toMatch(/: OK/);
    ok(['verify', '-x509_strict', '-CAfile', 'ca/ca.pem', '-purpose', 'sslclient', 'v/VEH-1.pem']);
    ok(['verify', '-x509_strict', '-CAfile', 'ca/ca.pem', '-purpose', 'sslserver', 's/server.pem']);
    // a client certificate is not a server certificate
    expect(openssl(['verify', '-CAfile', 'ca/ca.pem', '-purpose', 'sslserver', 'v/VEH-1.pem']).status).not.toBe(0);
    // each key belongs to its certificate; keys are private to their owner
    const pub = (args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    expect(pub(['pkey', '-in', 'v/VEH-1.key', '-pubout'])).toBe(
      pub(['x509', '-in', 'v/VEH-1.pem', '-noout', '-pubkey']),
    );
    for (const f of ['ca/ca.key', 'v/VEH-1.key', 's/server.key'])
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });

  it('signs with a CA made elsewhere (openssl, RSA) given as --ca-cert/--ca-key', () => {
    const ext = openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ext.key',
      '-out',
      'ext.pem',
      '-days',
      '2',
      '-subj',
      '/O=Operator/CN=Operator Root',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    expect(ext.status, ext.stderr).toBe(0);
    runCerts([
      'vehicle',
      'EXT-1',
      '--ca-cert',
      join(dir, 'ext.pem'),
      '--ca-key',
      join(dir, 'ext.key'),
      '--out',
      join(dir, 'x'),
    ]);
    expect(
      openssl(['verify', '-x509_strict', '-CAfile', 'ext.pem', '-purpose', 'sslclient', 'x/EXT-1.pem']).stdout,
    ).toMatch(/: OK/);
    expect(new X509Certificate(readFileSync(join(dir, 'x', 'EXT-1.pem'))).issuer).toBe('O=Operator\nCN=Operator Root');
  });

  it('refuses clearly: an existing file without --force, a bad id (nothing written), a key that is not the CA’s, a non-CA', () => {
    const ca = ['--ca', join(dir, 'ca')];
    expect(() => runCerts(['vehicle', 'VEH-1', ...ca, '--out', join(dir, 'v')])).toThrow(
      /exists: remove it or give --force/,
    );
    runCerts(['vehicle', 'VEH-1', ...ca, '--out', join(dir, 'v'), '--force']);
    expect(() => runCerts(['vehicle', 'OK-1', 'bad id', ...ca, '--out', join(dir, 'bad')])).toThrow(
      /"bad id" is not a vehicle id/,
    );
    expect(existsSync(join(dir, 'bad', 'OK-1.pem'))).toBe(false);
    expect(() =>
      runCerts([
        'vehicle',
        'A',
        '--ca-cert',
        join(dir, 'ca', 'ca.pem'),
        '--ca-key',
        join(dir, 'ext.key'),
        '--out',
        dir,
      ]),
    ).toThrow(/the CA key does not belong to the CA certificate/);
    expect(() =>
      runCerts([
        'vehicle',
        'A',
        '--ca-cert',
        join(dir, 'v', 'VEH-1.pem'),
        '--ca-key',
        join(dir, 'v', 'VEH-1.key'),
        '--out',
        dir,
      ]),
    ).toThrow(/not a CA certificate/);
    expect(() => runCerts(['vehicle', 'A', '--out', dir])).toThrow(/the CA is missing/);
    expect(() => runCerts(['server', ...ca, '--out', dir])).toThrow(/--host NAME is missing/);
    expect(() => runCerts(['nope', '--out', dir])).toThrow(/unknown command "nope"/);
    expect(() => runCerts(['ca', '--out', join(dir, 'd'), '--days', '0'])).toThrow(/--days must be a whole number/);
  });

  it('runs as `npm run certs` (the CLI: exit codes and messages)', () => {
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'platform/certs-cli.ts', ...args], { encoding: 'utf8' });
    const made = cli(['ca', '--out', join(dir, 'cli')]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toContain(`wrote ${join(dir, 'cli', 'ca.pem')}`);
    const refused = cli(['vehicle', 'bad id', '--ca', join(dir, 'cli'), '--out', join(dir, 'cli')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/not a vehicle id/);
  });
});
