/**
 * The PDF thread (started by pdf-thread.ts): lays out and compresses report PDFs off the main
 * thread, where a two-page report's text layout and font subsetting take most of a second.
 */
import { parentPort } from 'node:worker_threads';
import { isPlatformError } from '../core/errors.ts';
import { renderReportPdf } from './pdf.ts';
import type { PdfReply, PdfRequest } from './pdf-thread.ts';

if (!parentPort) throw new Error('pdf-worker.ts runs as a worker thread (see pdf-thread.ts)');
const port = parentPort;

port.on('message', (m: PdfRequest) => {
  renderReportPdf(m.doc, m.font).then(
    (pdf) => {
      const bytes = new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength).slice();
      port.postMessage({ id: m.id, pdf: bytes } satisfies PdfReply, [bytes.buffer]);
    },
    (err: unknown) =>
      port.postMessage({
        id: m.id,
        error: { message: String((err as Error)?.message ?? err), code: isPlatformError(err) ? err.code : null },
      } satisfies PdfReply),
  );
});
