/**
 * One vehicle: its state and power profile, live charts that update in place from the socket,
 * a history range picker with drag-to-zoom that asks the platform for downsampled series, and its
 * active and past alarms and tickets; for staff, the operator commands.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { RequestSupport } from '../components/remote-support.tsx';
import { AlarmTable } from '../components/alarm-table.tsx';
import { CommandPanel } from '../components/command-panel.tsx';
import { ErrorBox, OnlineDot, SeverityBadge, SocBar, SourceBadge } from '../components/badges.tsx';
import { Chart } from '../components/chart.tsx';
import { Fact } from '../components/fact.tsx';
import { OpenTicket } from '../components/open-ticket.tsx';
import { TicketTable } from '../components/ticket-table.tsx';
import {
  axesOf,
  appendFrames,
  CHARTS,
  columnsFromSeries,
  emptyColumns,
  seriesDefs,
  uplotData,
  type Columns,
} from '../charts.ts';
import { ago, dateTime, duration, timeToEmpty, toLocalInput } from '../format.ts';
import { useLoad, useNow, useThrottled } from '../hooks.ts';
import { loc, t, useLang } from '../i18n.ts';
import { chartLimits } from '../limits.ts';
import { onLive, watchVehicle } from '../live.ts';
import { isStaff, me } from '../session.ts';
import type { Alarm, FieldLimit, Series, Ticket, VehicleLimits, VehicleState } from '../types.ts';
import { DateTimeInput } from '../components/date-input.tsx';

const LIVE_WINDOW_MS = 10 * 60_000;
const HISTORY_POINTS = 1500;
const RANGES = [
  { key: 'vehicle.range.1h', ms: 3_600_000 },
  { key: 'vehicle.range.6h', ms: 6 * 3_600_000 },
  { key: 'vehicle.range.24h', ms: 24 * 3_600_000 },
  { key: 'vehicle.range.7d', ms: 7 * 86_400_000 },
] as const;

export function Vehicle({ id }: { id: string }) {
  useLang();
  const now = useNow(5000);
  const role = me().role;
  const vehicle = useLoad(() => api.get<VehicleState>(`/api/vehicles/${encodeURIComponent(id)}`), [id]);
  const limits = useLoad(() => api.get<VehicleLimits>(`/api/vehicles/${encodeURIComponent(id)}/limits`), [id]);
  const alarms = useLoad(() => api.get<{ alarms: Alarm[] }>('/api/alarms', { vehicleId: id, limit: 100 }), [id]);
  const tickets = useLoad(() => api.get<{ tickets: Ticket[] }>('/api/tickets', { vehicleId: id, limit: 100 }), [id]);
  const reloadAlarms = useThrottled(() => {
    alarms.reload();
    vehicle.reload();
  }, 1000);
  const reloadTickets = useThrottled(() => {
    tickets.reload();
    vehicle.reload(); // its open ticket
  }, 1000);
  const [mode, setMode] = useState<'live' | 'history'>('live');

  useEffect(() => {
    const offA = onLive('alarm', (m) => m.alarm.vehicleId === id && reloadAlarms());
    const offT = onLive('ticket', (m) => m.ticket.vehicleId === id && reloadTickets());
    const offF = onLive('fleet', (u) => {
      const e = u.vehicles.find((x) => x.id === id);
      if (e?.online !== undefined)
        vehicle.setData((v) =>
          v ? { ...v, online: e.online!, presenceChangedAt: e.presenceChangedAt ?? v.presenceChangedAt } : v,
        );
    });
    const offR = onLive('resync', () => {
      vehicle.reload();
      alarms.reload();
      tickets.reload();
    });
    return () => {
      offA();
      offT();
      offF();
      offR();
    };
  }, [id]);

  if (vehicle.error) return <ErrorBox error={vehicle.error} />;
  const v = vehicle.data;
  if (!v) return <p class="muted">{t('common.loading')}</p>;
  const current = alarms.data?.alarms.filter((a) => a.state !== 'cleared') ?? [];
  const past = alarms.data?.alarms.filter((a) => a.state === 'cleared') ?? [];

  return (
    <div class="view vehicle" data-testid="vehicle-view">
      <div class="head">
        <h2>
          {t('vehicle.title', { id: v.id })} <span class="muted">{v.name}</span>
        </h2>
        {role === 'customer' && (
          <a class="button" href={`#/request?vehicle=${encodeURIComponent(v.id)}`}>
            {t('vehicle.openRequest')}
          </a>
        )}
      </div>
      {role === 'customer' && <RequestSupport vehicleId={v.id} />}
      <div class="facts card">
        <Fact label={t('fleet.col.online')}>
          <OnlineDot online={v.online} /> {t(v.online ? 'state.online' : 'state.offline')}
          {v.presenceChangedAt && <span class="muted"> · {ago(v.presenceChangedAt, now)}</span>}
        </Fact>
        <Fact label={t('fleet.col.source')}>
          <SourceBadge source={v.latest?.source} online={v.online} />
        </Fact>
        <Fact label={t('fleet.col.soc')}>
          <SocBar pct={v.latest?.batterySocPct ?? null} />
        </Fact>
        <Fact label={t('fleet.col.tte')}>{timeToEmpty(v.latest?.timeToEmptyMin ?? null)}</Fact>
        <Fact label={t('fleet.col.alarm')}>
          {v.worstAlarm ? (
            <>
              <SeverityBadge severity={v.worstAlarm.severity} /> {loc(v.worstAlarm.title)}
            </>
          ) : (
            '—'
          )}
        </Fact>
        <Fact label={t('vehicle.model')}>{v.model === 'unspecified' ? t('vehicle.modelUnspecified') : v.model}</Fact>
        {isStaff(role) && <Fact label={t('common.customer')}>{v.customerId}</Fact>}
        <Fact label={t('fleet.col.ticket')}>
          <OpenTicket v={v} now={now} />
        </Fact>
        <Fact label={t('vehicle.profile')}>
          {t('vehicle.mainsProfile', { v: v.profile.mains.nominalV, hz: v.profile.mains.frequencyHz })} ·{' '}
          {t('vehicle.batteryProfile', { v: v.profile.battery.nominalV, ah: v.profile.battery.capacityAh })} ·{' '}
          {v.profile.hasGenerator ? t('vehicle.hasGenerator') : t('vehicle.noGenerator')}
        </Fact>
      </div>

      <div class="tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'live'}
          class={mode === 'live' ? 'active' : ''}
          onClick={() => setMode('live')}
          data-testid="tab-live"
        >
          {t('vehicle.live')}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'history'}
          class={mode === 'history' ? 'active' : ''}
          onClick={() => setMode('history')}
          data-testid="tab-history"
        >
          {t('vehicle.history')}
        </button>
      </div>
      {mode === 'live' ? (
        <LiveCharts id={v.id} limits={limits.data?.limits ?? []} />
      ) : (
        <HistoryCharts id={v.id} limits={limits.data?.limits ?? []} />
      )}

      {isStaff(role) && <CommandsSection id={v.id} name={v.name} online={v.online} />}

      <h3>{t('vehicle.alarms')}</h3>
      <AlarmTable alarms={[...current, ...past]} canAct={isStaff(role)} onChanged={reloadAlarms} showVehicle={false} />
      <h3>{t('vehicle.tickets')}</h3>
      <TicketTable tickets={tickets.data?.tickets ?? []} now={now} showCustomer={false} />
    </div>
  );
}

/** Staff: the operator commands, with the vehicle watched so that their outcomes arrive live. */
function CommandsSection({ id, name, online }: { id: string; name: string; online: boolean }) {
  useEffect(() => watchVehicle(id), [id]);
  return (
    <>
      <h3>{t('cmd.title')}</h3>
      <CommandPanel vehicleId={id} vehicleName={name} online={online} />
    </>
  );
}

function LiveCharts({ id, limits }: { id: string; limits: FieldLimit[] }) {
  const [cols, setCols] = useState<Columns>(emptyColumns);
  const [lastAt, setLastAt] = useState<number | null>(null);
  const now = useNow(1000);
  useEffect(() => {
    let alive = true;
    const pending: Parameters<typeof appendFrames>[1] = [];
    let seeded = false;
    const unwatch = watchVehicle(id);
    const off = onLive('frame', (m) => {
      if (m.vehicleId !== id) return;
      setLastAt(m.receivedAt);
      if (!seeded) return void pending.push(m.frame);
      setCols((c) => appendFrames(c, [m.frame], LIVE_WINDOW_MS));
    });
    const to = Date.now();
    api
      .get<Series>(`/api/vehicles/${encodeURIComponent(id)}/telemetry`, {
        from: to - LIVE_WINDOW_MS,
        to: to + 60_000,
        maxPoints: 1200,
      })
      .then(
        (s) => alive && setCols(appendFrames(columnsFromSeries(s), pending.splice(0), LIVE_WINDOW_MS)),
        () => alive && setCols((c) => appendFrames(c, pending.splice(0), LIVE_WINDOW_MS)),
      )
      .finally(() => (seeded = true));
    return () => {
      alive = false;
      off();
      unwatch();
    };
  }, [id]);
  return (
    <div class="charts" data-testid="live-charts">
      <p class="muted">
        {lastAt ? t('vehicle.lastFrame', { ago: ago(lastAt, now) }) : cols.ts.length ? '' : t('vehicle.noData')}
      </p>
      {CHARTS.map((c) => (
        <Chart
          key={c.id}
          id={c.id}
          title={t(c.title)}
          series={seriesDefs(c)}
          data={uplotData(cols, c)}
          {...axesOf(c)}
          limits={chartLimits(c, limits)}
        />
      ))}
    </div>
  );
}

function HistoryCharts({ id, limits }: { id: string; limits: FieldLimit[] }) {
  const [base, setBase] = useState(() => ({ from: Date.now() - RANGES[0].ms, to: Date.now() }));
  const [view, setView] = useState(base);
  const [fromInput, setFromInput] = useState(toLocalInput(base.from));
  const [toInput, setToInput] = useState(toLocalInput(base.to));
  const series = useLoad(
    () =>
      api.get<Series>(`/api/vehicles/${encodeURIComponent(id)}/telemetry`, {
        from: Math.round(view.from),
        to: Math.round(view.to),
        maxPoints: HISTORY_POINTS,
      }),
    [id, view.from, view.to],
  );
  const cols = useMemo(() => (series.data ? columnsFromSeries(series.data) : emptyColumns()), [series.data]);
  const pick = (ms: number) => {
    const r = { from: Date.now() - ms, to: Date.now() };
    setBase(r);
    setView(r);
    setFromInput(toLocalInput(r.from));
    setToInput(toLocalInput(r.to));
  };
  return (
    <div class="charts" data-testid="history-charts">
      <div class="toolbar">
        {RANGES.map((r) => (
          <button
            type="button"
            key={r.key}
            onClick={() => pick(r.ms)}
            class={base.to - base.from === r.ms ? 'active' : ''}
          >
            {t(r.key)}
          </button>
        ))}
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const r = { from: new Date(fromInput).getTime(), to: new Date(toInput).getTime() };
            if (Number.isFinite(r.from) && Number.isFinite(r.to) && r.from < r.to) {
              setBase(r);
              setView(r);
            }
          }}
        >
          <label>
            {t('vehicle.range.from')}{' '}
            <DateTimeInput kind="datetime" value={fromInput} onInput={(e) => setFromInput(e.currentTarget.value)} />
          </label>
          <label>
            {t('vehicle.range.to')}{' '}
            <DateTimeInput kind="datetime" value={toInput} onInput={(e) => setToInput(e.currentTarget.value)} />
          </label>
          <button type="submit">{t('vehicle.range.apply')}</button>
        </form>
      </div>
      <p class="muted">
        {dateTime(view.from)} – {dateTime(view.to)} ·{' '}
        {series.data
          ? series.data.bucketMs
            ? t('vehicle.points', { n: series.data.ts.length, b: duration(series.data.bucketMs) })
            : t('vehicle.rawPoints', { n: series.data.ts.length })
          : t('common.loading')}{' '}
        · {t('vehicle.zoomHint')}
      </p>
      <ErrorBox error={series.error} />
      {CHARTS.map((c) => (
        <Chart
          key={c.id}
          id={`history-${c.id}`}
          title={t(c.title)}
          series={seriesDefs(c)}
          data={uplotData(cols, c)}
          {...axesOf(c)}
          limits={chartLimits(c, limits)}
          onZoom={(from, to) => to - from >= 1000 && setView({ from, to })}
          onReset={() => setView(base)}
        />
      ))}
    </div>
  );
}
