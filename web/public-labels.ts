/**
 * How customers see people who are not of their own unit (web/public-names.ts), in both languages.
 * Plain data with no imports, so the browser console imports it too: the API sends the English
 * label, and the Chinese console shows the Chinese one for it (web/console/src/i18n.ts `personName`).
 */
export const PUBLIC_LABELS = {
  admin: { en: 'Platform team', zh: '平台团队' },
  dispatcher: { en: 'Duty desk', zh: '值班台' },
  engineer: { en: 'Engineer', zh: '工程师' },
  customer: { en: 'Customer', zh: '用户单位' },
  supply: { en: 'Supply chain', zh: '供应链管理部' },
  system: { en: 'System', zh: '系统' },
  staff: { en: 'Staff', zh: '工作人员' },
} as const;

export type PublicLabelKey = keyof typeof PUBLIC_LABELS;
