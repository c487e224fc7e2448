/**
 * A request for emergency support: a customer describes the need and the contacts on site (as the
 * service plan asks); the duty desk uses the same form for a hotline call and sets the level.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api.ts';
import { navigate, useLoad, useRoute } from '../hooks.ts';
import { loc, t, useLang } from '../i18n.ts';
import { getMeta, me } from '../session.ts';
import type { Customer, Ticket, VehicleState } from '../types.ts';

interface ContactInput {
  name: string;
  phone: string;
  role: string;
}

export function RequestForm() {
  useLang();
  const account = me();
  const customer = account.role === 'customer';
  const { query } = useRoute();
  const vehicles = useLoad(() => api.get<{ vehicles: VehicleState[] }>('/api/vehicles'), []);
  const customers = useLoad(
    () =>
      customer
        ? Promise.resolve({ customers: [] as Customer[] })
        : api.get<{ customers: Customer[] }>('/api/customers'),
    [],
  );
  const [vehicleId, setVehicleId] = useState(query.get('vehicle') ?? '');
  const [customerId, setCustomerId] = useState('');
  const [level, setLevel] = useState(customer ? 'urgent' : '');
  const [title, setTitle] = useState('');
  const [need, setNeed] = useState('');
  // a crew member asks for itself; the duty desk takes a caller's call: no name of its own in it
  const [contacts, setContacts] = useState<ContactInput[]>([
    { name: customer ? account.name : '', phone: '', role: '' },
  ]);
  /** The form's own words for what the platform refused, by input name. */
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // two levels (特急 / 加急); a customer's choice is a proposal the duty desk confirms or reclassifies
  const levels = Object.entries(getMeta().ticketLevels);

  const setContact = (i: number, patch: Partial<ContactInput>) =>
    setContacts((cs) => cs.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setFieldErrors({});
    try {
      const body = {
        ...(vehicleId ? { vehicleId } : {}),
        ...(!customer && !vehicleId && customerId ? { customerId } : {}),
        ...(level ? { level } : {}),
        title,
        need,
        contacts: contacts
          .filter((c) => c.name.trim() || c.phone.trim())
          .map((c) => ({ name: c.name, phone: c.phone, ...(c.role.trim() ? { role: c.role } : {}) })),
      };
      const r = await api.post<{ ticket: Ticket }>('/api/tickets', body);
      navigate(`/tickets/${r.ticket.id}`);
    } catch (x) {
      const fields = x instanceof ApiError ? fieldMessages(x) : {};
      setFieldErrors(fields);
      setErr(Object.keys(fields).length ? t('form.fixFields') : errorText(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="view request">
      <h2>{customer ? t('request.title') : t('request.hotlineTitle')}</h2>
      <p class="muted">{t('request.intro')}</p>
      <form class="card form" onSubmit={submit} data-testid="request-form">
        {!customer && (
          <label>
            {t('request.customer')}
            <select
              name="customer"
              value={customerId}
              required={!vehicleId}
              onChange={(e) => {
                const c = e.currentTarget.value;
                setCustomerId(c);
                // the vehicle list narrows to the unit: a vehicle of another unit is no longer chosen
                const v = (vehicles.data?.vehicles ?? []).find((x) => x.id === vehicleId);
                if (v && c && v.customerId !== c) setVehicleId('');
              }}
            >
              <option value="">—</option>
              {(customers.data?.customers ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.id})
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('request.vehicle')}
          <select
            name="vehicle"
            value={vehicleId}
            onChange={(e) => {
              const id = e.currentTarget.value;
              setVehicleId(id);
              const v = (vehicles.data?.vehicles ?? []).find((x) => x.id === id);
              if (v && !customer) setCustomerId(v.customerId);
            }}
          >
            <option value="">{t('request.noVehicle')}</option>
            {(vehicles.data?.vehicles ?? [])
              .filter((v) => customer || !customerId || v.customerId === customerId)
              .map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name} ({v.id})
                </option>
              ))}
          </select>
          <FieldError text={fieldErrors.vehicle} />
        </label>
        <label>
          {t('request.level')}
          <select name="level" value={level} required onChange={(e) => setLevel(e.currentTarget.value)}>
            {!customer && <option value="">—</option>}
            {levels.map(([k, l]) => (
              <option key={k} value={k}>
                {loc(l)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('request.subject')}
          <input name="title" required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          <FieldError text={fieldErrors.title} />
        </label>
        <label>
          {t('request.need')}
          <textarea
            name="need"
            required
            maxLength={4000}
            rows={5}
            value={need}
            onInput={(e) => setNeed(e.currentTarget.value)}
          />
          <FieldError text={fieldErrors.need} />
        </label>
        <fieldset>
          <legend>{t('ticket.contacts')}</legend>
          {contacts.map((c, i) => (
            <div class="contact-row" key={i}>
              <input
                name={`contact-name-${i}`}
                placeholder={t('request.contactName')}
                required={i === 0}
                maxLength={100}
                value={c.name}
                onInput={(e) => setContact(i, { name: e.currentTarget.value })}
              />
              <input
                name={`contact-phone-${i}`}
                placeholder={t('request.contactPhone')}
                required={i === 0}
                pattern="[0-9+\(\)\- ]{3,40}"
                title={t('form.phone')}
                value={c.phone}
                onInput={(e) => setContact(i, { phone: e.currentTarget.value })}
              />
              <FieldError text={fieldErrors[`contact-name-${i}`] ?? fieldErrors[`contact-phone-${i}`]} />
              <input
                name={`contact-role-${i}`}
                placeholder={t('request.contactRole')}
                maxLength={100}
                value={c.role}
                onInput={(e) => setContact(i, { role: e.currentTarget.value })}
              />
            </div>
          ))}
          {contacts.length < 10 && (
            <button
              type="button"
              class="link"
              onClick={() => setContacts((cs) => [...cs, { name: '', phone: '', role: '' }])}
            >
              + {t('request.addContact')}
            </button>
          )}
        </fieldset>
        {err && (
          <div class="error" role="alert">
            {err}
          </div>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t('request.submit')}
        </button>
      </form>
    </div>
  );
}

function FieldError({ text }: { text: string | undefined }) {
  return text ? (
    <small class="field-error" role="alert">
      {text}
    </small>
  ) : null;
}

/**
 * The platform's VALIDATION_FAILED fields as this form's inputs and words in the user's language
 * (body.contacts.0.phone → contact-phone-0: "a phone number: 3–40 digits, spaces, + - ( )"); a
 * vehicle the platform does not know is the vehicle field's error.
 */
function fieldMessages(err: ApiError): Record<string, string> {
  const out: Record<string, string> = {};
  if (err.code === 'VEHICLE_NOT_FOUND') out.vehicle = t('form.vehicleUnknown');
  for (const f of err.fields) {
    const m = /^body\.(?:(contacts)\.(\d+)\.(name|phone|role)|(vehicleId|customerId|title|need|level))/.exec(f.path);
    if (!m) continue;
    if (m[1]) out[`contact-${m[3]}-${m[2]}`] = m[3] === 'phone' ? t('form.phone') : t('form.required');
    else if (m[4] === 'vehicleId') out.vehicle = t('form.vehicleUnknown');
    else out[m[4]!] = t('form.required');
  }
  return out;
}
