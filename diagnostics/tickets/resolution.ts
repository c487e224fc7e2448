import { PlatformError } from '../../core/errors.ts';

/**
 * What was found and done, given when a ticket is marked repaired (issue 15, item 2).
 *
 * `partsUsed` are free lines for now ("1× fuel filter FF-200"). The seam for the resources issue:
 * it will reserve real parts from stock and replace these lines by part references; everything that
 * reads parts goes through `partsUsed` here, so only this type and `checkResolution` change.
 */
export interface Resolution {
  rootCause: string;
  workDone: string;
  partsUsed: string[];
}

/** The resolution as given, trimmed; RESOLUTION_REQUIRED when the root cause or the work done is missing. */
export function checkResolution(r: Partial<Resolution> | undefined): Resolution {
  const rootCause = r?.rootCause?.trim() ?? '';
  const workDone = r?.workDone?.trim() ?? '';
  if (!rootCause || !workDone)
    throw new PlatformError(
      'RESOLUTION_REQUIRED',
      'marking a ticket repaired needs the resolution: the root cause and what was done (and the parts used, if any)',
    );
  return { rootCause, workDone, partsUsed: (r?.partsUsed ?? []).map((p) => p.trim()).filter(Boolean) };
}

/** The resolution as one timeline note. */
export function resolutionNote(r: Resolution): string {
  return [
    `root cause: ${r.rootCause}`,
    `work done: ${r.workDone}`,
    `parts used: ${r.partsUsed.length ? r.partsUsed.join('; ') : 'none'}`,
  ].join('\n');
}
