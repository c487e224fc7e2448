import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { isPlatformError } from '../core/errors.ts';
import { loadConfig } from '../platform/config.ts';
import { DEFAULT_POWER_PROFILE } from '../protocol/index.ts';
import { openRecords } from '../platform/records.ts';
import { createAuditLog } from '../records/audit-log.ts';
import { createVehicleRegistry, type Vehicle } from './vehicles.ts';
import { createServiceAccounts, parseServiceScope, type ServiceScope } from './service-accounts.ts';
import { DEFAULT_DATA_DIR } from '../platform/data-files.ts';

const USAGE = `Usage: npm run vehicles -- <command> [options]

Commands:
  add <id> --customer <unit> [--name N] [--model M] [--no-generator]
           [--battery-voltage 12|24] [--battery-ah AH] [--mains-voltage V] [--mains-frequency 50|60]
                         provision a vehicle; prints its new secret once
  list [--customer <unit>]   list vehicles
  rotate-secret <id>         issue a new secret (the live session is closed)
  remove <id>                remove a vehicle (the live session is closed)
  transfer <id> --customer <unit>
                             move a vehicle to another unit from now on (its history, alarms,
                             incidents and tickets stay with the old unit)
  service-add <svc-id> [--name DESCRIPTION] [--topics K,K] [--units U,U]
                                             provision a platform service account; without --topics it
                                             may only read telemetry, status, events and commands/ack;
                                             --topics commands,... lets it publish commands; --units limits
                                             it to those customer units' vehicles (default: every unit)
  service-scope <svc-id> --topics K,K [--units U,U]   replace an account's scope (closes its session)
  service-list | service-rotate-secret <svc-id> | service-remove <svc-id>

Options:
  --json    machine-readable output
Data lives in DATA_DIR (default ${DEFAULT_DATA_DIR}), or in the PostgreSQL database DATABASE_URL names,
the same as the running platform.`;

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new CliError(`${flag} must be a number, got "${value}"`);
  return n;
}

class CliError extends Error {}

/** Who runs the CLI, for the audit log: the operating-system user (`cli:<name>`). */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

function printVehicle(v: Vehicle) {
  const p = v.profile;
  console.log(
    `${v.id}\t${v.customerId}\t${v.name}\t${v.model}\tgenerator=${p.hasGenerator ? 'yes' : 'no'} battery=${p.battery.nominalV}V/${p.battery.capacityAh}Ah mains=${p.mains.nominalV}V/${p.mains.frequencyHz}Hz`,
  );
}

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** `--topics a,b [--units c,d]` as a scope (checked by the service accounts). */
function scopeOption(topics: string, units: string | undefined): ServiceScope {
  return parseServiceScope({ topics: list(topics), ...(units === undefined ? {} : { units: list(units) }) });
}

const describeScope = (s: ServiceScope) =>
  `topics ${s.topics.join(',') || '(none)'}; units ${s.units ? s.units.join(',') : 'all'}`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      customer: { type: 'string' },
      name: { type: 'string' },
      model: { type: 'string' },
      'no-generator': { type: 'boolean', default: false },
      'battery-voltage': { type: 'string' },
      'battery-ah': { type: 'string' },
      'mains-voltage': { type: 'string' },
      'mains-frequency': { type: 'string' },
      topics: { type: 'string' },
      units: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, id] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig(process.env);
  const db = await openRecords(config);
  const vehicles = createVehicleRegistry({ db });
  const services = createServiceAccounts({ db });
  // every change made here is audited as the operating-system user's, source cli (never a secret)
  const audit = createAuditLog({ db }, { source: 'cli' });
  const actor = cliActor();
  const audited = (action: string, subject: string, details?: unknown) =>
    audit.record({ actor, action, subject, ...(details === undefined ? {} : { details }) });
  const out = (json: unknown, text: () => void) => (values.json ? console.log(JSON.stringify(json)) : text());
  const needId = () => {
    if (!id) throw new CliError(`${command} needs an id`);
    return id;
  };
  try {
    switch (command) {
      case 'add': {
        if (!values.customer) throw new CliError('add needs --customer <unit>');
        const bv = num(values['battery-voltage'], '--battery-voltage');
        const { battery, mains } = DEFAULT_POWER_PROFILE;
        const { vehicle, secret } = await vehicles.add({
          id: needId(),
          customerId: values.customer,
          ...(values.name ? { name: values.name } : {}),
          ...(values.model ? { model: values.model } : {}),
          profile: {
            hasGenerator: !values['no-generator'],
            battery: {
              nominalV: (bv ?? battery.nominalV) as 12 | 24,
              capacityAh: num(values['battery-ah'], '--battery-ah') ?? battery.capacityAh,
            },
            mains: {
              nominalV: num(values['mains-voltage'], '--mains-voltage') ?? mains.nominalV,
              frequencyHz: (num(values['mains-frequency'], '--mains-frequency') ?? mains.frequencyHz) as 50 | 60,
            },
          },
        });
        await audited('vehicle.added', `vehicle:${vehicle.id}`, {
          customerId: vehicle.customerId,
          name: vehicle.name,
          model: vehicle.model,
          profile: vehicle.profile,
        });
        out({ id: vehicle.id, secret }, () => {
          console.log(`added ${vehicle.id} for ${vehicle.customerId}`);
          console.log(`secret (shown once, store it in the gateway): ${secret}`);
        });
        return 0;
      }
      case 'list': {
        const list = await vehicles.list(values.customer ? { customerId: values.customer } : undefined);
        out(list, () => (list.length ? list.forEach(printVehicle) : console.log('no vehicles')));
        return 0;
      }
      case 'rotate-secret': {
        const { secret } = await vehicles.rotateSecret(needId());
        await audited('vehicle.secret_rotated', `vehicle:${id}`);
        out({ id, secret }, () => console.log(`new secret for ${id} (shown once): ${secret}`));
        return 0;
      }
      case 'transfer': {
        if (!values.customer) throw new CliError('transfer needs --customer <unit>');
        const { vehicle, from } = await vehicles.transfer(needId(), values.customer);
        await audited('vehicle.transferred', `vehicle:${vehicle.id}`, {
          before: { customerId: from },
          after: { customerId: vehicle.customerId },
        });
        out({ id: vehicle.id, from, to: vehicle.customerId }, () =>
          console.log(`moved ${vehicle.id} from ${from} to ${vehicle.customerId}`),
        );
        return 0;
      }
      case 'remove':
        await vehicles.remove(needId());
        await audited('vehicle.removed', `vehicle:${id}`);
        out({ id, removed: true }, () => console.log(`removed ${id}`));
        return 0;
      case 'service-add': {
        const scope = values.topics === undefined ? undefined : scopeOption(values.topics, values.units);
        if (!scope && values.units) throw new CliError('--units needs --topics');
        const { account, secret } = await services.add(needId(), values.name ?? '', scope);
        await audited('service_account.provisioned', `service:${account.id}`, { description: account.description });
        out({ id: account.id, secret }, () =>
          console.log(`added service account ${account.id}; secret (shown once): ${secret}`),
        );
        return 0;
      }
      case 'service-scope': {
        if (values.topics === undefined) throw new CliError('service-scope needs --topics');
        const scope = await services.setScope(needId(), scopeOption(values.topics, values.units));
        await audited('service_account.scoped', `service:${id}`, { scope });
        out({ id, scope }, () => console.log(`scope of ${id}: ${describeScope(scope)}`));
        return 0;
      }
      case 'service-list': {
        const list = await services.list();
        out(list, () => list.forEach((a) => console.log(`${a.id}\t${describeScope(a.scope)}\t${a.description}`)));
        return 0;
      }
      case 'service-rotate-secret': {
        const { secret } = await services.rotateSecret(needId());
        await audited('service_account.secret_rotated', `service:${id}`);
        out({ id, secret }, () => console.log(`new secret for ${id} (shown once): ${secret}`));
        return 0;
      }
      case 'service-remove':
        await services.remove(needId());
        await audited('service_account.removed', `service:${id}`);
        out({ id, removed: true }, () => console.log(`removed ${id}`));
        return 0;
      default:
        throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } finally {
    await db.destroy();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CliError || isPlatformError(err)) {
      const code = isPlatformError(err) ? `${err.code}: ` : '';
      if (process.argv.includes('--json'))
        console.log(
          JSON.stringify({ error: { code: isPlatformError(err) ? err.code : 'USAGE', message: err.message } }),
        );
      else console.error(`error: ${code}${err.message}`);
      process.exit(1);
    }
    console.error(err);
    process.exit(1);
  },
);
