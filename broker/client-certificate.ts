import type { TLSSocket } from 'node:tls';

/**
 * Client certificates on the MQTT TLS port (mutual TLS): `off` asks for none; `optional` asks, and a
 * client without one logs in with its secret; `required` refuses the handshake without one.
 */
export type ClientCertMode = 'off' | 'optional' | 'required';

/**
 * Why a client certificate was refused: the reasons counted in `mqtt.client_cert_refused` (stable
 * codes; docs/operations.md lists them).
 */
export type ClientCertRefusal =
  | 'certificate_expired'
  | 'certificate_revoked'
  | 'crl_problem'
  | 'certificate_not_yet_valid'
  | 'certificate_untrusted'
  | 'certificate_missing'
  | 'no_usable_cn'
  | 'unknown_certificate';

type MaybeTls = Partial<Pick<TLSSocket, 'getPeerCertificate' | 'authorized'>>;

const hasCertificate = (cert: ReturnType<TLSSocket['getPeerCertificate']> | undefined) =>
  !!cert && Object.keys(cert).length > 0;

/**
 * The vehicle a connection's client certificate names: its subject CN, when the certificate was
 * verified against the configured CA in the handshake. Undefined for a connection without one (plain
 * TCP, TLS or WebSocket without a client certificate): that client logs in with its secret. A
 * WebSocket stream carries the TLS socket's `getPeerCertificate`/`authorized` (broker/websocket.ts).
 */
export function certificateIdentity(conn: unknown): { cn: string; raw: Buffer } | { problem: string } | undefined {
  const socket = conn as MaybeTls;
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return undefined;
  const cert = socket.getPeerCertificate();
  if (!hasCertificate(cert)) return undefined;
  const cn: unknown = cert.subject?.CN;
  if (typeof cn !== 'string' || cn === '') return { problem: Array.isArray(cn) ? 'several CNs' : 'no CN' };
  return { cn, raw: cert.raw };
}

/**
 * With certificates optional, the handshake lets through a certificate that failed verification
 * (`socket.authorized` false): such a connection is refused, never treated as one without a
 * certificate. Undefined: no certificate, or a good one.
 */
export function refusedCertificate(
  socket: MaybeTls & { authorizationError?: Error | string },
): ClientCertRefusal | undefined {
  if (socket.authorized === true || typeof socket.getPeerCertificate !== 'function') return undefined;
  if (!hasCertificate(socket.getPeerCertificate())) return undefined;
  return refusalOf(String(socket.authorizationError ?? ''));
}

function refusalOf(text: string): ClientCertRefusal {
  // with a CRL configured (MQTT_TLS_CRL_FILE): revoked, or the CRL itself unusable (expired, missing
  // for the issuing CA, bad signature), which refuses every certificate of that CA
  if (/CERT_REVOKED|certificate revoked/i.test(text)) return 'certificate_revoked';
  if (/CRL/.test(text)) return 'crl_problem';
  if (/CERT_HAS_EXPIRED|certificate has expired/i.test(text)) return 'certificate_expired';
  if (/CERT_NOT_YET_VALID|not yet valid/i.test(text)) return 'certificate_not_yet_valid';
  return 'certificate_untrusted';
}

/**
 * A failed TLS handshake on account of the client certificate (certificates required): why. A
 * certificate that failed verification leaves its reason on the socket (`authorizationError`, e.g.
 * CERT_HAS_EXPIRED) before node closes it; a missing one is OpenSSL's own error. Undefined for other
 * failures (plain MQTT on the TLS port, a client that does not trust the server).
 */
export function tlsFailureReason(
  err: Error & { code?: string },
  socket: { authorizationError?: Error | string },
): ClientCertRefusal | undefined {
  if (socket.authorizationError) return refusalOf(String(socket.authorizationError));
  const text = `${err.code ?? ''} ${err.message}`;
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|did not return a certificate/i.test(text)) return 'certificate_missing';
  if (/CERTIFICATE_VERIFY_FAILED|certificate verify failed/i.test(text)) return 'certificate_untrusted';
  return undefined;
}
