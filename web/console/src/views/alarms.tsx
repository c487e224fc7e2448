/** Alarms of the vehicles one may see: current (active and acknowledged) or cleared; acknowledge and comment. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { AlarmTable } from '../components/alarm-table.tsx';
import { ErrorBox } from '../components/badges.tsx';
import { useLoad, useThrottled } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { onLive } from '../live.ts';
import { isStaff, me } from '../session.ts';
import type { Alarm } from '../types.ts';

export function Alarms() {
  useLang();
  const [scope, setScope] = useState<'current' | 'cleared'>('current');
  const [severity, setSeverity] = useState('');
  const list = useLoad(
    () =>
      api.get<{ alarms: Alarm[] }>('/api/alarms', {
        state: scope === 'current' ? 'active,acknowledged' : 'cleared',
        limit: 500,
        ...(severity ? { severity } : {}),
      }),
    [scope, severity],
  );
  const reload = useThrottled(list.reload, 1000);
  useEffect(() => onLive('alarm', () => reload()), []);
  return (
    <div class="view alarms">
      <h2>{t('alarms.title')}</h2>
      <div class="toolbar">
        <button type="button" class={scope === 'current' ? 'active' : ''} onClick={() => setScope('current')}>
          {t('alarms.filter.current')}
        </button>
        <button type="button" class={scope === 'cleared' ? 'active' : ''} onClick={() => setScope('cleared')}>
          {t('alarms.filter.cleared')}
        </button>
        <select
          value={severity}
          onChange={(e) => setSeverity(e.currentTarget.value)}
          aria-label={t('alarms.col.severity')}
        >
          <option value="">
            {t('alarms.col.severity')}: {t('common.all')}
          </option>
          {['critical', 'major', 'minor', 'info'].map((s) => (
            <option key={s} value={s}>
              {t(`severity.${s}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={list.error} />
      {list.data ? (
        <AlarmTable alarms={list.data.alarms} canAct={isStaff(me().role)} onChanged={list.reload} />
      ) : (
        <p class="muted">{t('common.loading')}</p>
      )}
    </div>
  );
}
