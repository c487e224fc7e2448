import { X509Certificate, createPublicKey, sign, verify } from 'node:crypto';
import { PlatformError } from '../core/errors.ts';
import { OID, loadSigner, pem, signatureOf, type CertificateAuthority } from './certificate-authority.ts';
import {
  bits,
  children,
  explicit,
  implicit,
  octets,
  oid,
  oidText,
  read,
  seq,
  time,
  uint,
  type Element,
} from './der.ts';

/**
 * Certificate revocation lists (X.509 v2 CRLs, RFC 5280 §5) signed by the project CA, for
 * `npm run certs -- revoke` and `crl`: the broker checks client certificates against the CRL file
 * (MQTT_TLS_CRL_FILE, node's `crl` option). Node's crypto verifies CRLs in the TLS handshake but does
 * not build them; the DER is written here as the certificates are (certificate-authority.ts).
 */

const DAY_MS = 86_400_000;

/** A certificate's serial number as upper-case hex without leading zeros (how it is compared). */
export const normalSerial = (hex: string): string => {
  const h = hex
    .replace(/[:\s]/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
  if (!/^[0-9A-F]+$/.test(h)) throw new PlatformError('INVALID_ARGUMENT', `"${hex}" is not a serial number (hex)`);
  return h;
};

const serialBytes = (hex: string) => {
  const h = normalSerial(hex);
  return Buffer.from(h.length % 2 ? `0${h}` : h, 'hex');
};

/** What a CRL holds: its number and each revoked serial, with the entry's DER kept as it was. */
export interface RevocationListContents {
  /** The issuer's subject, DER. */
  issuer: Buffer;
  /** What is signed (DER) and the signature: to check who signed it. */
  tbs: Buffer;
  signature: Buffer;
  number: bigint;
  nextUpdate?: Date;
  entries: { serial: string; der: Buffer }[];
}

const PEM_CRL = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/;

/** Reads a PEM CRL (the first one in the text). */
export function readRevocationList(text: string): RevocationListContents {
  const m = PEM_CRL.exec(text);
  if (!m) throw new PlatformError('INVALID_ARGUMENT', 'not a PEM CRL (-----BEGIN X509 CRL-----)');
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  try {
    const [tbs, , sig] = children(der, read(der)) as [Element, Element, Element];
    const fields = children(der, tbs);
    let i = fields[0]!.tag === 0x02 ? 1 : 0; // version (v2)
    i++; // signature algorithm
    const issuer = fields[i++]!;
    i++; // thisUpdate
    const isTime = (e: Element | undefined) => e !== undefined && (e.tag === 0x17 || e.tag === 0x18);
    const next = isTime(fields[i]) ? fields[i++] : undefined;
    const entries: RevocationListContents['entries'] = [];
    if (fields[i]?.tag === 0x30) {
      for (const entry of children(der, fields[i++]!)) {
        const serial = children(der, entry)[0]!;
        entries.push({
          serial: normalSerial(der.subarray(serial.start, serial.end).toString('hex')),
          der: Buffer.from(der.subarray(entry.at, entry.end)),
        });
      }
    }
    let number = 0n;
    const exts = fields[i];
    if (exts?.tag === 0xa0)
      for (const ext of children(der, children(der, exts)[0]!)) {
        const parts = children(der, ext);
        if (oidText(der, parts[0]!) !== OID.crlNumber) continue;
        const value = parts[parts.length - 1]!;
        const int = read(der, value.start);
        number = BigInt(`0x${der.subarray(int.start, int.end).toString('hex') || '0'}`);
      }
    return {
      issuer: Buffer.from(der.subarray(issuer.at, issuer.end)),
      tbs: Buffer.from(der.subarray(tbs.at, tbs.end)),
      signature: Buffer.from(der.subarray(sig.start + 1, sig.end)), // after the unused-bits byte
      number,
      ...(next ? { nextUpdate: parseTime(der.subarray(next.start, next.end).toString('ascii'), next.tag) } : {}),
      entries,
    };
  } catch (err) {
    throw new PlatformError('INVALID_ARGUMENT', 'the CRL could not be read (bad DER)', { cause: err });
  }
}

function parseTime(text: string, tag: number): Date {
  const full = tag === 0x17 ? `${Number(text.slice(0, 2)) >= 50 ? '19' : '20'}${text}` : text;
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(full) ?? [];
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

/** The serial number of a certificate (PEM) the CA issued; refused when another CA issued it. */
export function issuedSerial(ca: CertificateAuthority, certPem: string, label: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new PlatformError('INVALID_ARGUMENT', `${label} is not a PEM certificate`, { cause: err });
  }
  const caCert = new X509Certificate(ca.cert);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey))
    throw new PlatformError('INVALID_ARGUMENT', `${label} was not issued by this CA (${caCert.subject})`);
  return normalSerial(cert.serialNumber);
}

/**
 * A new CRL signed by the CA: the entries of `previous` (the CA's last CRL, if any) plus `revoke`
 * (serial numbers, hex; revoked now), numbered one above the previous; valid for `days` (30 unless
 * told): OpenSSL refuses every certificate of the CA once the CRL's next update has passed.
 */
export function createRevocationList(
  ca: CertificateAuthority,
  options: { revoke?: readonly string[]; previous?: string; days?: number; now?: Date } = {},
): { crl: string; serials: string[]; number: bigint; nextUpdate: Date } {
  const signer = loadSigner(ca);
  const now = options.now ?? new Date();
  const nextUpdate = new Date(now.getTime() + (options.days ?? 30) * DAY_MS);
  const before = options.previous !== undefined ? readRevocationList(options.previous) : undefined;
  const { alg, digest } = signatureOf(signer.key);
  // the name alone proves nothing (two CAs made by "ca" share it): the CA's key must have signed it
  if (
    before &&
    (!before.issuer.equals(signer.subject) ||
      !verify(digest, before.tbs, createPublicKey(signer.key), before.signature))
  )
    throw new PlatformError('INVALID_ARGUMENT', 'the existing CRL was issued by another CA: give its own --out');
  const entries = new Map((before?.entries ?? []).map((e) => [e.serial, e.der]));
  for (const s of options.revoke ?? []) {
    const serial = normalSerial(s);
    if (!entries.has(serial)) entries.set(serial, seq(uint(serialBytes(serial)), time(now)));
  }
  const number = (before?.number ?? 0n) + 1n;
  const numberHex = number.toString(16);
  const tbs = seq(
    uint(Buffer.from([1])), // v2
    alg,
    signer.subject,
    time(now),
    time(nextUpdate),
    ...(entries.size ? [seq(...entries.values())] : []),
    explicit(
      0,
      seq(
        ...(signer.keyId ? [seq(oid(OID.authorityKeyId), octets(seq(implicit(0, signer.keyId))))] : []),
        seq(oid(OID.crlNumber), octets(uint(Buffer.from(numberHex.length % 2 ? `0${numberHex}` : numberHex, 'hex')))),
      ),
    ),
  );
  const signature = sign(digest, tbs, signer.key);
  const der = seq(tbs, alg, bits(signature));
  return { crl: pem('X509 CRL', der), serials: [...entries.keys()], number, nextUpdate };
}

/** The issuer (DER, hex) and serial of a certificate (DER): what a CRL entry names. */
function issuerAndSerial(der: Buffer): string {
  const tbs = children(der, read(der))[0]!;
  const fields = children(der, tbs);
  const i = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version
  const serial = fields[i]!;
  const issuer = fields[i + 2]!;
  return `${der.subarray(issuer.at, issuer.end).toString('hex')}/${normalSerial(der.subarray(serial.start, serial.end).toString('hex'))}`;
}

/**
 * Whether a certificate (DER) is revoked by one of the CRLs (PEM, concatenated) in `text`: its
 * issuer and serial are listed. The signatures are not checked here: the TLS handshake checks the
 * same file.
 */
export function revocationCheck(text: string): (certificate: Buffer) => boolean {
  const revoked = new Set<string>();
  for (const block of text.match(new RegExp(PEM_CRL.source, 'g')) ?? []) {
    const crl = readRevocationList(block);
    for (const e of crl.entries) revoked.add(`${crl.issuer.toString('hex')}/${e.serial}`);
  }
  return (certificate) => {
    try {
      return revoked.has(issuerAndSerial(certificate));
    } catch {
      return false;
    }
  };
}
