/**
 * Both sides' confirmation of a service order (双方确认): our side by completing it, the user side
 * by signing the done order off from its console (name written on the signature, a remark).
 */
import { useState } from 'preact/hooks';
import type { ServiceOrder } from '../types.ts';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { getLang, t } from '../i18n.ts';
import { me } from '../session.ts';

export function OrderSignOff(props: { order: ServiceOrder; onSaved: () => void }) {
  const o = props.order;
  const [name, setName] = useState(me().role === 'customer' ? me().name : '');
  const [note, setNote] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const canSign = me().role === 'customer' && o.status === 'done' && !o.signOff;
  const sign = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await api.post(`/api/service-orders/${o.id}/sign-off`, { name, ...(note.trim() ? { note: note.trim() } : {}) });
      props.onSaved();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" data-testid="order-sign-off" data-signed={o.signOff ? 'yes' : 'no'}>
      <h3>{t('orders.signOff')}</h3>
      {o.outcome && (
        <p>
          {t('orders.outcome')}: <span data-testid="order-outcome">{o.outcome}</span>
        </p>
      )}
      {o.signOff ? (
        <p data-testid="order-signed">
          {t('orders.signedBy', { name: o.signOff.name, at: dateTime(o.signOff.at) })}
          {o.signOff.note && <span class="muted"> · {o.signOff.note}</span>}
        </p>
      ) : (
        <p class="muted">{t(o.status === 'done' ? 'orders.awaitingSignOff' : 'orders.signAfterDone')}</p>
      )}
      {canSign && (
        <form class="toolbar" data-testid="order-sign-off-form" onSubmit={sign}>
          <input name="signer" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <input
            class="grow"
            name="sign-note"
            maxLength={1000}
            placeholder={t('orders.signNote')}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
          <button type="submit" class="primary" disabled={busy}>
            {t('orders.sign')}
          </button>
        </form>
      )}
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
      <p data-testid="order-report">
        {t('orders.report')}:{' '}
        <a
          href={`/api/service-orders/${o.id}/report.html?lang=${getLang()}`}
          data-testid="order-report-html"
          target="_blank"
          rel="noopener noreferrer"
        >
          {t('ticket.reportView')}
        </a>{' '}
        ·{' '}
        <a href={`/api/service-orders/${o.id}/report.pdf?lang=${getLang()}`} data-testid="order-report-pdf" download>
          {t('ticket.reportPdf')}
        </a>
      </p>
    </section>
  );
}
