import { access, constants } from 'node:fs/promises';

/** The font every report is printed with: a CJK font embedded (subset) so Chinese prints as it reads. */
export interface ReportFont {
  /** A TrueType/OpenType font or collection (.ttc) with CJK glyphs (REPORT_FONT_FILE). */
  file: string;
  /** The face in a collection, by PostScript name (REPORT_FONT_NAME); ignored for a single font. */
  name?: string | undefined;
}

/** Debian's `fonts-wqy-microhei` (文泉驿微米黑): the default font of reports. */
export const DEFAULT_REPORT_FONT: Required<ReportFont> = {
  file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  name: 'WenQuanYiMicroHei',
};

/** Whether the font file can be read (the start-up warning, and the check before each PDF). */
export async function fontReadable(font: ReportFont): Promise<boolean> {
  return access(font.file, constants.R_OK).then(
    () => true,
    () => false,
  );
}
