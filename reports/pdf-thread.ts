import { Worker } from 'node:worker_threads';
import { PlatformError, type ErrorCode } from '../core/errors.ts';
import { workerModule } from '../core/worker-module.ts';
import type { ReportDocument } from './document.ts';
import type { ReportFont } from './font.ts';

export interface PdfRequest {
  id: number;
  doc: ReportDocument;
  font: ReportFont;
}

export type PdfReply =
  | { id: number; pdf: Uint8Array; error?: undefined }
  | { id: number; pdf?: undefined; error: { message: string; code: ErrorCode | null } };

/** The worker's code beside this module (core/worker-module.ts). */
const WORKER = workerModule(import.meta.url, 'pdf-worker');

/**
 * Renders report PDFs on one worker thread, so the MQTT and HTTP thread never waits for pdfkit
 * (about 0.3–1 s of CPU per report). Started at the first PDF and kept; unreferenced while idle,
 * so it never holds the process open. Requests queue in the worker, one PDF at a time. A worker
 * that dies fails what it held, and the next PDF starts a new one.
 */
export function createPdfThread() {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();

  function failAll(err: Error) {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function ensure(): Worker {
    if (worker) return worker;
    const w = new Worker(WORKER.url, { execArgv: WORKER.execArgv, stdout: false, stderr: false });
    w.on('message', (m: PdfReply) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.error) p.reject(new PlatformError(m.error.code ?? 'INTERNAL', m.error.message));
      else p.resolve(Buffer.from(m.pdf.buffer, m.pdf.byteOffset, m.pdf.byteLength));
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(err);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      failAll(new Error(`the PDF thread exited (${code})`));
    });
    worker = w;
    return w;
  }

  return {
    render(doc: ReportDocument, font: ReportFont): Promise<Buffer> {
      const w = ensure();
      const id = nextId++;
      return new Promise<Buffer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.ref();
        w.postMessage({ id, doc, font } satisfies PdfRequest);
      });
    },
    async close(): Promise<void> {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
      failAll(new Error('the PDF thread was closed'));
    },
  };
}

export type PdfThread = ReturnType<typeof createPdfThread>;
