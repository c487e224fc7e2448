/**
 * A ticket's spare parts: the emergency plan's parts as a proposed reservation (stores by distance
 * with on-hand and available stock, ETA, and what transfers have on their way there with their ETA;
 * the nearest that covers it, or the shortage with where else stock is and what is on order), the reservations with their state, and the shipments (售后服务发运通知).
 * Customers see only the shipments to their own unit.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { loc, t, useLang, type Localized, type MessageKey } from '../i18n.ts';
import { me, seesStock } from '../session.ts';
import { DataTable } from './data-table.tsx';
import { ErrorBox } from './badges.tsx';

interface Option {
  storeId: string;
  available: number;
  onHand: number;
  distanceKm: number | null;
  etas: { transport: string; hours: number }[];
  inTransit: { transferNo: string; qty: number; etaAt: number | null }[];
}
interface ProposalLine {
  partNo: string;
  name: Localized;
  qty: number;
  covered: number;
  proposedStoreId: string | null;
  options: Option[];
  shortage: null | {
    missing: number;
    elsewhere: { storeId: string; available: number }[];
    onOrder: { orderNo: string; storeId: string; qty: number; expectedAt: number }[];
    contract: boolean;
    task: null | { id: number; kind: string; status: 'open' | 'done'; automatic: boolean };
  };
}
interface Reservation {
  id: number;
  partNo: string;
  storeId: string;
  qty: number;
  reserved: number;
  inField: number;
  consumed: number;
  returned: number;
  released: number;
}
interface Shipment {
  id: number;
  noticeNo: string;
  carrier: string;
  trackingNo: string;
  shippedAt: number;
  storeId?: string;
  lines: { partNo: string; name: Localized; qty: number }[];
}
interface TicketStock {
  proposal: { lines: ProposalLine[] };
  reservations: Reservation[];
  shipments: Shipment[];
}

/** What transfers have on their way to the stores, per store with the transfer's ETA. */
function inTransitText(options: Option[]): string {
  return options
    .flatMap((o) =>
      o.inTransit.map(
        (m) =>
          `${o.storeId} ${m.qty} (${m.transferNo}${m.etaAt ? `, ${t('stock.transfer.eta')} ${dateTime(m.etaAt)}` : ''})`,
      ),
    )
    .join(', ');
}

/**
 * Every store with the part on hand or on its way, nearest first: on hand, available, in transit,
 * distance and the ETA by each transport; the dispatcher picks the store (one that covers the rest).
 */
function StoreChoice(props: {
  line: ProposalLine;
  picked: string;
  canPick: boolean;
  onPick: (storeId: string) => void;
}) {
  const l = props.line;
  const rest = l.qty - l.covered;
  const stores = l.options.filter((o) => o.onHand > 0 || o.available > 0 || o.inTransit.length > 0);
  if (stores.length === 0) return null;
  return (
    <table class="table store-choice" data-testid="store-choice">
      <thead>
        <tr>
          <th />
          <th>{t('stock.store')}</th>
          <th>{t('stock.onHand')}</th>
          <th>{t('stock.available')}</th>
          <th>{t('stock.ticket.inTransitCol')}</th>
          <th>{t('stock.ticket.distanceCol')}</th>
          <th>{t('stock.ticket.etaCol')}</th>
        </tr>
      </thead>
      <tbody>
        {stores.map((o) => {
          const covers = o.available >= rest;
          return (
            <tr key={o.storeId} data-store={o.storeId} data-covers={covers ? 'yes' : 'no'}>
              <td>
                <input
                  type="radio"
                  name={`store-${l.partNo}`}
                  aria-label={o.storeId}
                  value={o.storeId}
                  checked={props.picked === o.storeId}
                  disabled={!props.canPick || !covers}
                  onChange={() => props.onPick(o.storeId)}
                />
              </td>
              <td>
                {o.storeId}
                {o.storeId === l.proposedStoreId && <span class="badge">{t('stock.ticket.nearest')}</span>}
              </td>
              <td>{o.onHand}</td>
              <td>{o.available}</td>
              <td>{o.inTransit.reduce((a, m) => a + m.qty, 0) || ''}</td>
              <td>{o.distanceKm !== null ? t('stock.ticket.distance', { km: o.distanceKm }) : '—'}</td>
              <td>
                {o.etas.length
                  ? o.etas
                      .map((e) =>
                        t('stock.ticket.eta', {
                          h: e.hours,
                          transport: t(`stock.transport.${e.transport}` as MessageKey),
                        }),
                      )
                      .join('; ')
                  : '—'}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Shipments({ shipments }: { shipments: Shipment[] }) {
  if (shipments.length === 0) return null;
  return (
    <>
      <h4>{t('stock.ticket.shipments')}</h4>
      <DataTable
        rows={shipments}
        rowKey={(s) => s.id}
        columns={[
          { label: 'No.', cell: (s) => s.noticeNo },
          { label: t('stock.ticket.carrier'), cell: (s) => s.carrier },
          { label: t('stock.ticket.tracking'), cell: (s) => s.trackingNo },
          {
            label: t('stock.lines'),
            cell: (s) => s.lines.map((l) => `${l.partNo} ${loc(l.name)} × ${l.qty}`).join('; '),
          },
          { label: '', cell: (s) => dateTime(s.shippedAt) },
        ]}
      />
    </>
  );
}

export function TicketStock({ ticketId }: { ticketId: number }) {
  useLang();
  const role = me().role;
  if (!seesStock(role)) return <CustomerShipments ticketId={ticketId} />;
  return <StaffTicketStock ticketId={ticketId} />;
}

function CustomerShipments({ ticketId }: { ticketId: number }) {
  const list = useLoad(() => api.get<{ shipments: Shipment[] }>('/api/stock/shipments', { ticketId }), [ticketId]);
  if (!list.data?.shipments.length) return null;
  return (
    <section class="card" data-testid="ticket-shipments">
      <Shipments shipments={list.data.shipments} />
    </section>
  );
}

function StaffTicketStock({ ticketId }: { ticketId: number }) {
  const role = me().role;
  const canReserve = role === 'admin' || role === 'dispatcher' || role === 'supply';
  const canConsume = role === 'admin' || role === 'dispatcher' || role === 'engineer';
  const data = useLoad(() => api.get<TicketStock>(`/api/tickets/${ticketId}/stock`), [ticketId]);
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [err, setErr] = useState<string | null>(null);
  const [ship, setShip] = useState({ carrier: '', trackingNo: '', consignee: '', address: '' });
  const act = (p: Promise<unknown>) =>
    p.then(
      () => {
        setErr(null);
        data.reload();
      },
      (e: unknown) => setErr(errorText(e)),
    );
  const d = data.data;
  if (!d) return <ErrorBox error={data.error} />;
  const lines = d.proposal.lines;
  const open = lines.filter((l) => l.qty > l.covered);
  return (
    <section class="card" data-testid="ticket-stock">
      <h3>{t('stock.ticket.title')}</h3>
      {err && <div class="error">{err}</div>}
      {lines.length === 0 && <p class="muted">{t('stock.ticket.none')}</p>}
      {lines.map((l) => {
        const store = picked[l.partNo] ?? l.proposedStoreId ?? '';
        return (
          <div key={l.partNo} class="stock-line" data-part={l.partNo}>
            <strong>
              {l.partNo} {loc(l.name)}
            </strong>{' '}
            {t('stock.ticket.need')} {l.qty} · {t('stock.ticket.covered')} {l.covered}
            {l.qty > l.covered && (
              <StoreChoice
                line={l}
                picked={store}
                canPick={canReserve}
                onPick={(id) => setPicked({ ...picked, [l.partNo]: id })}
              />
            )}
            {l.options.some((o) => o.inTransit.length > 0) && (
              <p class="muted" data-testid="in-transit">
                {t('stock.ticket.inTransitList', { list: inTransitText(l.options) })}
              </p>
            )}
            {l.shortage && (
              <p class="warn">
                {t('stock.ticket.shortage', { n: l.shortage.missing })}{' '}
                {t('stock.ticket.elsewhere', {
                  list:
                    l.shortage.elsewhere.map((e) => `${e.storeId} ${e.available}`).join(', ') ||
                    t('stock.ticket.nowhere'),
                })}
                {l.shortage.onOrder.length > 0 &&
                  ` ${t('stock.ticket.onOrderList', {
                    list: l.shortage.onOrder
                      .map((o) => `${o.orderNo} × ${o.qty} (${dateTime(o.expectedAt)})`)
                      .join(', '),
                  })}`}
                {!l.shortage.contract && ` · ${t('stock.ticket.noContract')}`}
                {l.shortage.task && (
                  <span data-testid="shortage-task" data-kind={l.shortage.task.kind}>
                    {' · '}
                    {t('stock.ticket.shortageTask', {
                      id: l.shortage.task.id,
                      kind: t(`stock.shortage.kind.${l.shortage.task.kind}` as MessageKey),
                      status: t(`stock.ticket.taskStatus.${l.shortage.task.status}` as MessageKey),
                    })}
                  </span>
                )}
                {canReserve && l.shortage.elsewhere.length === 0 && !l.shortage.contract && !l.shortage.task && (
                  <button
                    type="button"
                    onClick={() =>
                      void act(
                        api.post('/api/stock/shortages', { partNo: l.partNo, qty: l.shortage!.missing, ticketId }),
                      )
                    }
                  >
                    {t('stock.ticket.raiseShortage')}
                  </button>
                )}
              </p>
            )}
          </div>
        );
      })}
      {canReserve && open.length > 0 && (
        <button
          type="button"
          data-testid="reserve"
          onClick={() =>
            void act(
              api.post(`/api/tickets/${ticketId}/reservations`, {
                lines: open
                  .map((l) => {
                    const storeId = picked[l.partNo] ?? l.proposedStoreId ?? '';
                    const fastest = l.options.find((o) => o.storeId === storeId)?.etas[0];
                    return {
                      partNo: l.partNo,
                      storeId,
                      qty: l.qty - l.covered,
                      ...(fastest
                        ? { transport: fastest.transport, etaAt: Date.now() + Math.round(fastest.hours * 3_600_000) }
                        : {}),
                    };
                  })
                  .filter((l) => l.storeId),
              }),
            )
          }
        >
          {t('stock.ticket.reserve')}
        </button>
      )}
      {d.reservations.length > 0 && (
        <>
          <h4>{t('stock.ticket.reservations')}</h4>
          <DataTable
            rows={d.reservations}
            rowKey={(r) => r.id}
            columns={[
              { label: t('stock.partNo'), cell: (r) => r.partNo },
              { label: t('stock.store'), cell: (r) => r.storeId },
              { label: t('stock.reserved'), cell: (r) => r.reserved },
              { label: t('stock.ticket.inField'), cell: (r) => r.inField },
              { label: t('stock.ticket.consumed'), cell: (r) => r.consumed },
              {
                label: '',
                class: 'actions',
                cell: (r) => (
                  <>
                    {canReserve && r.reserved > 0 && (
                      <>
                        <button
                          type="button"
                          onClick={() =>
                            void act(
                              api.post(`/api/tickets/${ticketId}/shipments`, { reservationIds: [r.id], ...ship }),
                            )
                          }
                        >
                          {t('stock.ticket.ship')}
                        </button>
                        <button
                          type="button"
                          onClick={() => void act(api.post(`/api/stock/reservations/${r.id}/release`, {}))}
                        >
                          {t('stock.ticket.release')}
                        </button>
                      </>
                    )}
                    {canConsume && r.inField > 0 && (
                      <button
                        type="button"
                        onClick={() =>
                          void act(api.post(`/api/tickets/${ticketId}/consumption`, { reservationId: r.id, qty: 1 }))
                        }
                      >
                        {t('stock.ticket.consume')}
                      </button>
                    )}
                  </>
                ),
              },
            ]}
          />
          {canReserve && d.reservations.some((r) => r.reserved > 0) && (
            <div class="form-row">
              {(['carrier', 'trackingNo', 'consignee', 'address'] as const).map((k) => (
                <label key={k}>
                  {t(`stock.ticket.${k === 'trackingNo' ? 'tracking' : k}` as MessageKey)}
                  <input value={ship[k]} onInput={(e) => setShip({ ...ship, [k]: e.currentTarget.value })} />
                </label>
              ))}
            </div>
          )}
        </>
      )}
      <Shipments shipments={d.shipments} />
    </section>
  );
}
