/** Small labels with a colour: level (特急 / 加急), severity, power source, ticket status, link state. */
import { loc, t, type MessageKey } from '../i18n.ts';
import { getMeta } from '../session.ts';
import type { PowerSource, Severity } from '../types.ts';

export function LevelBadge({ level }: { level: string }) {
  const label = getMeta().ticketLevels[level];
  return (
    <span class={`badge level-${level}`} data-level={level}>
      {label ? loc(label) : level}
    </span>
  );
}

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span class={`badge sev-${severity}`}>{t(`severity.${severity}` as MessageKey)}</span>;
}

export function SourceBadge({ source, online }: { source: PowerSource | null | undefined; online: boolean }) {
  const s = !online ? 'offline' : (source ?? 'unknown');
  return <span class={`badge src-${s}`}>{t(`source.${s}` as MessageKey)}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{t(`status.${status}` as MessageKey)}</span>;
}

/** Marks a note only staff read (visibility `internal`); customer-visible notes carry no badge. */
export function InternalBadge({ visibility }: { visibility: 'internal' | 'customer' }) {
  if (visibility !== 'internal') return null;
  return (
    <span class="badge note-internal" data-testid="internal-badge" title={t('note.internalHint')}>
      {t('note.internal')}
    </span>
  );
}

/** Staff choose who reads a note: internal (staff only, the default) or the customer unit too. */
export function VisibilityChoice({
  value,
  onChange,
  name,
}: {
  value: 'internal' | 'customer';
  onChange: (v: 'internal' | 'customer') => void;
  name: string;
}) {
  return (
    <select
      class={`visibility-choice ${value === 'internal' ? 'note-internal' : ''}`}
      name={name}
      data-testid={name}
      aria-label={t('note.visibility')}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value === 'customer' ? 'customer' : 'internal')}
    >
      <option value="internal">{t('note.visibility.internal')}</option>
      <option value="customer">{t('note.visibility.customer')}</option>
    </select>
  );
}

export function OnlineDot({ online }: { online: boolean }) {
  return (
    <span class={`dot ${online ? 'on' : 'off'}`} title={t(online ? 'state.online' : 'state.offline')}>
      <span class="sr">{t(online ? 'state.online' : 'state.offline')}</span>
    </span>
  );
}

export function ModeLabel({ mode }: { mode: string | null }) {
  if (!mode) return <span class="muted">—</span>;
  const l = getMeta().serviceModes[mode];
  return <span>{l ? loc(l) : mode}</span>;
}

export function SocBar({ pct }: { pct: number | null }) {
  if (pct === null) return <span class="muted">—</span>;
  const cls = pct < 20 ? 'low' : pct < 50 ? 'mid' : 'ok';
  return (
    <span class="soc" title={`${pct.toFixed(0)} %`}>
      <span class={`soc-fill ${cls}`} style={{ width: `${Math.max(0, Math.min(100, pct))}%` }} />
      <span class="soc-text">{pct.toFixed(0)} %</span>
    </span>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  return (
    <div class="error" role="alert">
      {t('common.error')}: {msg}
      {code ? ` (${code})` : ''}
    </div>
  );
}
