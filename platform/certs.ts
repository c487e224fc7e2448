import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PlatformError } from '../core/errors.ts';
import {
  createCertificateAuthority,
  issueServerCertificate,
  issueVehicleCertificate,
  type CertificateAuthority,
  type IssuedPair,
} from '../broker/certificate-authority.ts';
import { createRevocationList, issuedSerial, normalSerial } from '../broker/revocation-list.ts';

export const CERTS_USAGE = `Usage: npm run certs -- <command> [options]

Certificates for MQTT over TLS with client certificates (mutual TLS), for tests and small
deployments (docs/operations.md). Keys are EC P-256, written with mode 0600.

  ca --out DIR [--name NAME] [--days N]
        a new project CA: DIR/ca.pem (give it to the platform as MQTT_TLS_CA_FILE) and DIR/ca.key
        (keep it offline); 3650 days unless told
  vehicle ID [ID ...] --ca DIR --out DIR [--days N]
        a client certificate per vehicle, CN = the vehicle id: DIR/ID.pem and DIR/ID.key
        (825 days unless told)
  server --host NAME[,NAME|IPv4 ...] --ca DIR --out DIR [--days N]
        the broker's certificate (MQTT_TLS_CERT_FILE/MQTT_TLS_KEY_FILE): DIR/server.pem, DIR/server.key
  revoke [ID ...] [--certs DIR] [--serial HEX ...] --ca DIR --out DIR [--days N]
        revokes the certificates DIR/ID.pem (in the directory "vehicle" wrote them to) and/or these
        serial numbers: DIR/crl.pem (MQTT_TLS_CRL_FILE) is written anew with them added to the ones it
        held, signed by the CA, valid 30 days unless told
  crl --ca DIR --out DIR [--days N]
        re-signs DIR/crl.pem (or writes an empty one) with nothing new revoked: do it before the
        CRL's next update, when the broker would refuse every certificate of the CA

  --ca DIR               the CA made by "ca" (DIR/ca.pem and DIR/ca.key), or instead
  --ca-cert FILE --ca-key FILE
                         a CA made elsewhere (PEM; an RSA or EC P-256/P-384 key, unencrypted)
  --force                overwrite files that exist`;

const numberOf = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1)
    throw new PlatformError('CONFIG_INVALID', `${flag} must be a whole number of days, 1 or more`);
  return Number(v);
};

/** Runs one `npm run certs` command; returns the lines it printed (the files written). */
export function runCerts(argv: readonly string[]): string[] {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      days: { type: 'string' },
      ca: { type: 'string' },
      'ca-cert': { type: 'string' },
      'ca-key': { type: 'string' },
      host: { type: 'string', multiple: true },
      certs: { type: 'string' },
      serial: { type: 'string', multiple: true },
      force: { type: 'boolean', default: false },
    },
  });
  const usage = (why: string) => new PlatformError('CONFIG_INVALID', `${why}\n\n${CERTS_USAGE}`);
  if (command !== 'ca' && command !== 'vehicle' && command !== 'server' && command !== 'revoke' && command !== 'crl')
    throw usage(command ? `unknown command "${command}"` : 'name a command');
  if (!values.out) throw usage('--out DIR is missing');
  const out = values.out;
  const days = numberOf(values.days, '--days');
  const validity = days !== undefined ? { days } : {};
  const written: string[] = [];
  const write = (pairs: { file: string; text: string; secret: boolean }[]) => {
    mkdirSync(out, { recursive: true });
    const existing = pairs.map((p) => join(out, p.file)).filter((f) => existsSync(f));
    if (existing.length && !values.force)
      throw new PlatformError('CONFIG_INVALID', `${existing.join(', ')} exists: remove it or give --force`);
    for (const p of pairs) {
      const file = join(out, p.file);
      writeFileSync(file, p.text, { mode: p.secret ? 0o600 : 0o644 });
      if (p.secret) chmodSync(file, 0o600);
      written.push(file);
    }
  };
  const pair = (base: string, issued: IssuedPair) => [
    { file: `${base}.pem`, text: issued.cert, secret: false },
    { file: `${base}.key`, text: issued.key, secret: true },
  ];

  if (command === 'ca') {
    if (positionals.length) throw usage(`"ca" takes no arguments, got ${positionals.join(' ')}`);
    const ca = createCertificateAuthority({ ...(values.name ? { name: values.name } : {}), ...validity });
    write([
      { file: 'ca.pem', text: ca.cert, secret: false },
      { file: 'ca.key', text: ca.key, secret: true },
    ]);
    return written.map((f) => `wrote ${f}`);
  }
  const ca = readCa(values.ca, values['ca-cert'], values['ca-key']);
  if (command === 'revoke' || command === 'crl') return revocationList(command, ca, out, positionals, values, days);
  if (command === 'vehicle') {
    if (!positionals.length) throw usage('name at least one vehicle id');
    // all issued before any is written: a bad id writes nothing
    const issued = positionals.map((id) => ({ id, pair: issueVehicleCertificate(ca, id, validity) }));
    write(issued.flatMap((i) => pair(i.id, i.pair)));
  } else {
    const hosts = (values.host ?? [])
      .flatMap((h) => h.split(','))
      .map((h) => h.trim())
      .filter(Boolean);
    if (!hosts.length) throw usage('--host NAME is missing (the names and addresses gateways connect to)');
    write(pair('server', issueServerCertificate(ca, hosts, validity)));
  }
  return written.map((f) => `wrote ${f}`);
}

/** `revoke` and `crl`: OUT/crl.pem written anew (atomically: the broker polls it) from the one there. */
function revocationList(
  command: 'revoke' | 'crl',
  ca: CertificateAuthority,
  out: string,
  positionals: readonly string[],
  values: { certs?: string | undefined; serial?: string[] | undefined },
  days: number | undefined,
): string[] {
  const serials: string[] = [];
  if (command === 'crl') {
    if (positionals.length || values.serial?.length || values.certs !== undefined)
      throw new PlatformError('CONFIG_INVALID', '"crl" revokes nothing new: use "revoke ID --certs DIR" for that');
  } else {
    if (!positionals.length && !values.serial?.length)
      throw new PlatformError('CONFIG_INVALID', '"revoke" needs vehicle ids (with --certs DIR) or --serial HEX');
    if (positionals.length && values.certs === undefined)
      throw new PlatformError('CONFIG_INVALID', '--certs DIR is missing: where "vehicle" wrote ID.pem');
    // every certificate read and checked before anything is written: a bad one writes nothing
    for (const id of positionals) {
      const file = join(values.certs!, `${id}.pem`);
      if (!existsSync(file)) throw new PlatformError('CONFIG_INVALID', `${file}: no such file`);
      serials.push(issuedSerial(ca, readFileSync(file, 'utf8'), file));
    }
    serials.push(...(values.serial ?? []).map(normalSerial));
  }
  const file = join(out, 'crl.pem');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  const made = createRevocationList(ca, {
    revoke: serials,
    ...(previous !== undefined ? { previous } : {}),
    ...(days !== undefined ? { days } : {}),
  });
  mkdirSync(out, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, made.crl, { mode: 0o644 });
  renameSync(tmp, file);
  return [
    ...serials.map((s) => `revoked serial ${s}`),
    `wrote ${file} (CRL number ${made.number}, ${made.serials.length} revoked, next update ${made.nextUpdate.toISOString()})`,
  ];
}

function readCa(
  dir: string | undefined,
  certFile: string | undefined,
  keyFile: string | undefined,
): CertificateAuthority {
  if (dir !== undefined && (certFile !== undefined || keyFile !== undefined))
    throw new PlatformError('CONFIG_INVALID', 'give --ca DIR or --ca-cert FILE --ca-key FILE, not both');
  const files =
    dir !== undefined
      ? { cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key') }
      : certFile !== undefined && keyFile !== undefined
        ? { cert: certFile, key: keyFile }
        : undefined;
  if (!files)
    throw new PlatformError(
      'CONFIG_INVALID',
      'the CA is missing: --ca DIR (made by "ca") or --ca-cert FILE --ca-key FILE',
    );
  for (const f of [files.cert, files.key])
    if (!existsSync(f)) throw new PlatformError('CONFIG_INVALID', `${f}: no such file`);
  return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
}
