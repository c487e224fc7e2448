import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRevocationList, readRevocationList, revocationCheck } from '../../broker/revocation-list.ts';
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

describe('npm run certs -- revoke / crl (certificate revocation lists)', () => {
  const at = (...p: string[]) => join(dir, 'crl', ...p);
  const ca = () => ['--ca', at('ca')];
  const verifyCert = (id: string) => {
    execFileSync('sh', ['-c', `cat '${at('ca', 'ca.pem')}' '${at('ca', 'crl.pem')}' > '${at('chain.pem')}'`]);
    return openssl(['verify', '-crl_check', '-CAfile', at('chain.pem'), at('v', `${id}.pem`)]);
  };

  beforeAll(() => {
    runCerts(['ca', '--out', at('ca')]);
    runCerts(['vehicle', 'R-1', 'R-2', 'R-3', ...ca(), '--out', at('v')]);
  });

  it('writes a CRL signed by the CA that openssl verifies; revoked certificates fail openssl verify -crl_check', () => {
    const out = runCerts(['revoke', 'R-1', '--certs', at('v'), ...ca(), '--out', at('ca')]);
    const serial = new X509Certificate(readFileSync(at('v', 'R-1.pem'))).serialNumber;
    expect(out[0]).toBe(`revoked serial ${serial.replace(/^0+/, '')}`);
    expect(out[1]).toMatch(/wrote .*crl\.pem \(CRL number 1, 1 revoked, next update /);
    const check = openssl(['crl', '-in', at('ca', 'crl.pem'), '-CAfile', at('ca', 'ca.pem'), '-noout', '-verify']);
    expect(check.stderr + check.stdout).toMatch(/verify OK/);
    expect(verifyCert('R-1').stderr + verifyCert('R-1').stdout).toMatch(/certificate revoked/);
    expect(verifyCert('R-2').stdout).toMatch(/: OK/);
  });

  it('adds to the CRL (earlier revocations and their dates kept, number raised); by serial too; crl re-signs', () => {
    const before = readRevocationList(readFileSync(at('ca', 'crl.pem'), 'utf8'));
    const serial = openssl(['x509', '-in', at('v', 'R-2.pem'), '-noout', '-serial'])
      .stdout.trim()
      .split('=')[1]!;
    runCerts(['revoke', '--serial', serial, ...ca(), '--out', at('ca')]);
    const after = readRevocationList(readFileSync(at('ca', 'crl.pem'), 'utf8'));
    expect(after.number).toBe(2n);
    expect(after.entries.map((e) => e.serial)).toEqual([before.entries[0]!.serial, serial.replace(/^0+/, '')]);
    expect(after.entries[0]!.der.equals(before.entries[0]!.der)).toBe(true);
    expect(verifyCert('R-2').stdout + verifyCert('R-2').stderr).toMatch(/certificate revoked/);
    expect(verifyCert('R-3').stdout).toMatch(/: OK/);
    // what the platform closes open connections by (issuer and serial; several CRLs in one file)
    const der = (f: string) => new X509Certificate(readFileSync(f)).raw;
    const revoked = revocationCheck(
      readFileSync(at('ca', 'crl.pem'), 'utf8') +
        createRevocationList({
          cert: readFileSync(join(dir, 'ca', 'ca.pem'), 'utf8'),
          key: readFileSync(join(dir, 'ca', 'ca.key'), 'utf8'),
        }).crl,
    );
    expect([at('v', 'R-1.pem'), at('v', 'R-2.pem'), at('v', 'R-3.pem')].map((f) => revoked(der(f)))).toEqual([
      true,
      true,
      false,
    ]);
    expect(revoked(der(join(dir, 'v', 'VEH-1.pem')))).toBe(false);
    runCerts(['crl', ...ca(), '--out', at('ca'), '--days', '7']);
    const resigned = readRevocationList(readFileSync(at('ca', 'crl.pem'), 'utf8'));
    expect(resigned.number).toBe(3n);
    expect(resigned.entries).toHaveLength(2);
    expect(resigned.nextUpdate!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(resigned.nextUpdate!.getTime() - Date.now()).toBeLessThan(7.1 * 86_400_000);
  });

  it('refuses clearly, writing nothing: no ids, ids without --certs, another CA’s certificate or CRL, a bad serial', () => {
    const crl = () => readFileSync(at('ca', 'crl.pem'), 'utf8');
    const kept = crl();
    expect(() => runCerts(['revoke', ...ca(), '--out', at('ca')])).toThrow(/needs vehicle ids .* or --serial/);
    expect(() => runCerts(['revoke', 'R-3', ...ca(), '--out', at('ca')])).toThrow(/--certs DIR is missing/);
    expect(() => runCerts(['revoke', 'R-9', '--certs', at('v'), ...ca(), '--out', at('ca')])).toThrow(
      /R-9\.pem: no such file/,
    );
    runCerts(['ca', '--out', at('other')]);
    runCerts(['vehicle', 'R-3', '--ca', at('other'), '--out', at('ov')]);
    expect(() => runCerts(['revoke', 'R-3', '--certs', at('ov'), ...ca(), '--out', at('ca')])).toThrow(
      /was not issued by this CA/,
    );
    expect(() => runCerts(['revoke', '--serial', 'xyz', ...ca(), '--out', at('ca')])).toThrow(
      /"xyz" is not a serial number/,
    );
    expect(() => runCerts(['crl', '--ca', at('other'), '--out', at('ca')])).toThrow(/issued by another CA/);
    expect(() => runCerts(['crl', 'R-3', ...ca(), '--out', at('ca')])).toThrow(/"crl" revokes nothing new/);
    expect(crl()).toBe(kept);
  });
});
