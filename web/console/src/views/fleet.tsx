/**
 * Fleet: every vehicle one may see, with link state, active power source, battery SOC, time to
 * empty and the worst active alarm; counts by state; filter and search. Live: presence and newest
 * values arrive batched (`fleet`), alarms and tickets make the list reload (at most every few
 * seconds). A vehicle's open ticket (level, status, next deadline) is shown beside its alarm: a
 * fault that cleared leaves no alarm, but the ticket is still open.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { mergeSummary } from '../../../live/fleet-wire.ts';
import { api } from '../api.ts';
import { ErrorBox, OnlineDot, SeverityBadge, SocBar, SourceBadge } from '../components/badges.tsx';
import { OpenTicket } from '../components/open-ticket.tsx';
import { ago, timeToEmpty } from '../format.ts';
import { navigate, useLoad, useNow, useThrottled } from '../hooks.ts';
import { loc, t, useLang, type MessageKey } from '../i18n.ts';
import { onLive } from '../live.ts';
import { isStaff, me } from '../session.ts';
import type { FleetCounts, VehicleState } from '../types.ts';

const SEVERITY_RANK: Record<string, number> = { critical: 3, major: 2, minor: 1, info: 0 };
type StateFilter = 'all' | 'online' | 'offline' | 'alarms';
const SOURCES = ['all', 'mains', 'generator', 'battery', 'none'] as const;

function rank(v: VehicleState): number {
  return (v.worstAlarm ? 10 + (SEVERITY_RANK[v.worstAlarm.severity] ?? 0) : 0) + (v.online ? 0 : 1);
}

export function Fleet() {
  useLang();
  const now = useNow(5000);
  const staff = isStaff(me().role);
  const list = useLoad(() => api.get<{ vehicles: VehicleState[]; counts: FleetCounts }>('/api/vehicles'), []);
  const reload = useThrottled(list.reload, 3000);
  const [state, setState] = useState<StateFilter>('all');
  const [source, setSource] = useState<(typeof SOURCES)[number]>('all');
  const [q, setQ] = useState('');

  useEffect(() => {
    const offFleet = onLive('fleet', (u) => {
      const changes = new Map(u.vehicles.map((e) => [e.id, e]));
      let unknown = false;
      list.setData((d) => {
        if (!d) return d;
        const seen = new Set<string>();
        const vehicles = d.vehicles.map((v) => {
          const c = changes.get(v.id);
          if (!c) return v;
          seen.add(v.id);
          return {
            ...v,
            ...(c.online !== undefined
              ? {
                  online: c.online,
                  presenceChangedAt: c.presenceChangedAt ?? v.presenceChangedAt,
                  disconnectReason: c.disconnectReason ?? null,
                }
              : {}),
            ...(c.latest ? { latest: mergeSummary(v.latest, c.latest) } : {}),
          };
        });
        unknown = changes.size > seen.size;
        return { ...d, vehicles };
      });
      if (unknown) reload(); // a vehicle added since the list was read
    });
    const offAlarm = onLive('alarm', () => reload());
    const offTicket = onLive('ticket', () => reload());
    const offResync = onLive('resync', () => list.reload()); // changes missed while disconnected
    return () => {
      offFleet();
      offAlarm();
      offTicket();
      offResync();
    };
  }, []);

  const vehicles = list.data?.vehicles ?? [];
  const counts = useMemo(() => {
    const c = { total: vehicles.length, online: 0, offline: 0, alarms: 0, bySource: {} as Record<string, number> };
    for (const v of vehicles) {
      if (v.online) c.online++;
      else c.offline++;
      if (v.activeAlarms > 0) c.alarms++;
      const s = v.online ? (v.latest?.source ?? 'unknown') : 'offline';
      c.bySource[s] = (c.bySource[s] ?? 0) + 1;
    }
    return c;
  }, [vehicles]);

  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return vehicles
      .filter(
        (v) =>
          state === 'all' || (state === 'online' ? v.online : state === 'offline' ? !v.online : v.activeAlarms > 0),
      )
      .filter((v) => source === 'all' || (v.online && v.latest?.source === source))
      .filter(
        (v) =>
          !needle ||
          v.id.toLowerCase().includes(needle) ||
          v.name.toLowerCase().includes(needle) ||
          v.model.toLowerCase().includes(needle),
      )
      .sort((a, b) => rank(b) - rank(a) || a.id.localeCompare(b.id));
  }, [vehicles, state, source, q]);

  return (
    <div class="view fleet">
      <h2>{t('fleet.title')}</h2>
      <div class="tiles">
        <Tile
          label={t('fleet.total')}
          value={counts.total}
          active={state === 'all'}
          onClick={() => setState('all')}
          testid="count-total"
        />
        <Tile
          label={t('fleet.online')}
          value={counts.online}
          active={state === 'online'}
          onClick={() => setState('online')}
          cls="ok"
          testid="count-online"
        />
        <Tile
          label={t('fleet.offline')}
          value={counts.offline}
          active={state === 'offline'}
          onClick={() => setState('offline')}
          cls="off"
          testid="count-offline"
        />
        <Tile
          label={t('fleet.withAlarms')}
          value={counts.alarms}
          active={state === 'alarms'}
          onClick={() => setState('alarms')}
          cls="bad"
          testid="count-alarms"
        />
        {(['mains', 'generator', 'battery', 'none'] as const).map((s) => (
          <Tile
            key={s}
            label={t(`source.${s}` as MessageKey)}
            value={counts.bySource[s] ?? 0}
            active={source === s}
            onClick={() => setSource(source === s ? 'all' : s)}
            cls={`src-${s}`}
            testid={`count-${s}`}
          />
        ))}
      </div>
      <div class="toolbar">
        <input
          type="search"
          placeholder={t('fleet.searchPlaceholder')}
          aria-label={t('common.search')}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <label>
          {t('fleet.filter.source')}{' '}
          <select value={source} onChange={(e) => setSource(e.currentTarget.value as (typeof SOURCES)[number])}>
            {SOURCES.map((s) => (
              <option key={s} value={s}>
                {s === 'all' ? t('common.all') : t(`source.${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <p class="muted">{t('common.loading')}</p>
      ) : (
        <table class="grid" data-testid="fleet-table">
          <thead>
            <tr>
              <th>{t('fleet.col.vehicle')}</th>
              {staff && <th>{t('common.customer')}</th>}
              <th>{t('fleet.col.online')}</th>
              <th>{t('fleet.col.source')}</th>
              <th>{t('fleet.col.soc')}</th>
              <th>{t('fleet.col.tte')}</th>
              <th>{t('fleet.col.alarm')}</th>
              <th>{t('fleet.col.ticket')}</th>
              <th>{t('fleet.col.seen')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((v) => (
              <tr
                key={v.id}
                class={`clickable ${v.worstAlarm ? `row-${v.worstAlarm.severity}` : ''}`}
                data-vehicle={v.id}
                onClick={() => navigate(`/vehicles/${encodeURIComponent(v.id)}`)}
              >
                <td>
                  <a href={`#/vehicles/${encodeURIComponent(v.id)}`}>{v.id}</a>
                  <div class="sub">{v.name}</div>
                </td>
                {staff && <td>{v.customerId}</td>}
                <td>
                  <OnlineDot online={v.online} />
                </td>
                <td>
                  <SourceBadge source={v.latest?.source} online={v.online} />
                </td>
                <td>
                  <SocBar pct={v.latest?.batterySocPct ?? null} />
                </td>
                <td>{timeToEmpty(v.latest?.timeToEmptyMin ?? null)}</td>
                <td>
                  {v.worstAlarm ? (
                    <span>
                      <SeverityBadge severity={v.worstAlarm.severity} /> {loc(v.worstAlarm.title)}
                      {v.activeAlarms > 1 ? <span class="muted"> +{v.activeAlarms - 1}</span> : null}
                    </span>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
                <td>
                  <OpenTicket v={v} now={now} />
                </td>
                <td class="muted">{v.latest ? ago(v.latest.receivedAt, now) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && shown.length === 0 && <p class="muted">{t('common.empty')}</p>}
    </div>
  );
}

function Tile(p: { label: string; value: number; active: boolean; onClick: () => void; cls?: string; testid: string }) {
  return (
    <button
      type="button"
      class={`tile ${p.cls ?? ''} ${p.active ? 'active' : ''}`}
      onClick={p.onClick}
      data-testid={p.testid}
    >
      <span class="tile-value">{p.value}</span>
      <span class="tile-label">{p.label}</span>
    </button>
  );
}
