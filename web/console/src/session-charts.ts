/**
 * A remote session's charts: every field of the four power sections (mains, generator set, battery,
 * charging and load) at the full rate, the vehicle page's charts (charts.ts) in a sliding window.
 */
import { CHARTS, fieldsOf, type ChartDef } from './charts.ts';

export const SESSION_WINDOW_MS = 5 * 60_000;

export const SESSION_CHARTS: ChartDef[] = CHARTS;

export const SESSION_FIELDS = fieldsOf(SESSION_CHARTS);
