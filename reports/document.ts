/**
 * What every report kind is laid out as, and what both renderers (html.ts, pdf.ts) draw: a title
 * block and a list of blocks, every text already in the report's language; plain data (it is sent
 * to the PDF worker thread as it is). A report kind is a pure
 * model over its records plus a layout of that model into a ReportDocument (see ReportKind); the
 * renderers know nothing of tickets, service orders or their vocabulary.
 */

export const REPORT_LANGUAGES = ['zh', 'en'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

/** One line of a chart: a value per `ChartData.ts` point (null: no data there). */
export interface ChartLine {
  label: string;
  /** CSS / PDF colour, `#rrggbb`. */
  color: string;
  values: (number | null)[];
}

/** A small time chart: one y axis (`unit`), lines over shared times, labelled vertical markers. */
export interface ChartData {
  title: string;
  unit: string;
  from: number;
  to: number;
  ts: number[];
  lines: ChartLine[];
  /** Events drawn as vertical dashed lines (ticket opened, repaired). */
  markers: { at: number; label: string }[];
  /** Fixed y range (e.g. 0–100 for a percentage); otherwise from the data. */
  yMin?: number;
  yMax?: number;
}

export type ReportBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'fields'; rows: [label: string, value: string][] }
  | { kind: 'paragraph'; text: string; muted?: boolean }
  | {
      kind: 'table';
      columns: string[];
      /** Relative column widths (default equal). */
      widths?: number[];
      rows: string[][];
      /** Shown instead of an empty table. */
      empty: string;
    }
  /** Charts side by side, two to a row, times on their axes in `timeZone`; `note` under them (the window). */
  | { kind: 'charts'; charts: ChartData[]; empty: string; note?: string; timeZone: string }
  /** The sign-off boxes of both sides (双方确认/签字). */
  | {
      kind: 'signatures';
      parties: {
        side: string;
        role: string;
        name: string;
        at: string;
        signed: boolean;
        /** "Signed" / "Not signed" in the report's language. */
        status: string;
        note?: string;
      }[];
      /** Captions of the boxes' lines in the report's language. */
      captions: { name: string; at: string; signature: string };
    };

export interface ReportDocument {
  lang: ReportLanguage;
  /** The issuer printed above the title (the manufacturer's service organisation). */
  issuer: string;
  /** 《售后服务报告》 / "After-sales service report". */
  title: string;
  /** Shown under the title: the document number, e.g. the ticket number. */
  reference: string;
  blocks: ReportBlock[];
  /** The page footer: generated when, in which time zone. */
  footer: string;
}

/**
 * The seam for every report of the service plan. A kind turns its records (`Sources`, read by the
 * caller) into a language-neutral model with a pure `build`, and lays that model out in one
 * language with a pure `layout`. The after-sales service report (service-report.ts) is the first;
 * 《巡检巡修服务报告》 (patrol inspection), 《技术培训服务报告》 (training) and 《伴随保障服务报告》
 * (accompanying support) are kinds over service orders; 《工作联系函》 (the return-to-factory
 * repair's work contact letter, work-contact-letter.ts) is a plain layout over a ticket's steps
 * (docs/service-reports.md).
 */
export interface ReportKind<Sources, Model> {
  /** The kind's id in routes and file names, e.g. `service` (售后服务报告), `patrol`, `training`. */
  id: string;
  title: Record<ReportLanguage, string>;
  build(sources: Sources): Model;
  layout(model: Model, lang: ReportLanguage, timeZone: string): ReportDocument;
}
