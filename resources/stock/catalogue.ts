import { PlatformError } from '../../core/errors.ts';
import type { RecordsDb } from '../../records/db.ts';
import './errors.ts';
import './records.ts';

export const STORE_KINDS = ['central', 'service_point', 'service_vehicle'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface Part {
  partNo: string;
  name: { en: string; zh: string };
  unit: string;
  wearing: boolean;
  /** Machining documents (加工技术文件) exist: a shortage can be made in-house. */
  machinable: boolean;
  fitsModels: string[];
  fitsModules: string[];
  leadTimeDays: number;
  suppliers: { id: string; name: string }[];
  levels: { storeId: string; min: number; max: number }[];
}
export type PartInput = Omit<Part, 'levels'>;

export interface Store {
  id: string;
  kind: StoreKind;
  name: { en: string; zh: string };
  lat: number;
  lon: number;
  address: string;
}

/** The parts catalogue, the stores and their min/max levels. */
export function createCatalogue(deps: { db: RecordsDb; now: () => number }) {
  const { db, now } = deps;

  async function parts(): Promise<Part[]> {
    const [rows, sup, lev] = await Promise.all([
      db.selectFrom('parts').selectAll().orderBy('part_no').execute(),
      db.selectFrom('parts_suppliers').selectAll().orderBy('supplier_id').execute(),
      db.selectFrom('stock_levels').selectAll().orderBy('store_id').execute(),
    ]);
    return rows.map((r) => ({
      partNo: r.part_no,
      name: { en: r.name_en, zh: r.name_zh },
      unit: r.unit,
      wearing: r.wearing === 1,
      machinable: r.machinable === 1,
      fitsModels: JSON.parse(r.fits_models) as string[],
      fitsModules: JSON.parse(r.fits_modules) as string[],
      leadTimeDays: r.lead_time_days,
      suppliers: sup.filter((s) => s.part_no === r.part_no).map((s) => ({ id: s.supplier_id, name: s.supplier_name })),
      levels: lev
        .filter((l) => l.part_no === r.part_no)
        .map((l) => ({ storeId: l.store_id, min: l.min_qty, max: l.max_qty })),
    }));
  }

  async function part(partNo: string): Promise<Part> {
    const p = (await parts()).find((x) => x.partNo === partNo);
    if (!p) throw new PlatformError('PART_NOT_FOUND', `part ${partNo} not found`);
    return p;
  }

  async function addPart(input: PartInput): Promise<Part> {
    await db.transaction().execute(async (tx) => {
      const exists = await tx
        .selectFrom('parts')
        .select('part_no')
        .where('part_no', '=', input.partNo)
        .executeTakeFirst();
      if (exists) throw new PlatformError('STOCK_EXISTS', `part ${input.partNo} exists already`);
      await tx
        .insertInto('parts')
        .values({
          part_no: input.partNo,
          name_en: input.name.en,
          name_zh: input.name.zh,
          unit: input.unit,
          wearing: input.wearing ? 1 : 0,
          machinable: input.machinable ? 1 : 0,
          fits_models: JSON.stringify(input.fitsModels),
          fits_modules: JSON.stringify(input.fitsModules),
          lead_time_days: input.leadTimeDays,
          created_at: now(),
          updated_at: now(),
        })
        .execute();
      if (input.suppliers.length)
        await tx
          .insertInto('parts_suppliers')
          .values(input.suppliers.map((s) => ({ part_no: input.partNo, supplier_id: s.id, supplier_name: s.name })))
          .execute();
    });
    return part(input.partNo);
  }

  /** Changes a part's catalogue entry (names, unit, flags, fits, lead time, suppliers); its number stays. */
  async function updatePart(input: PartInput): Promise<Part> {
    await db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('parts')
        .set({
          name_en: input.name.en,
          name_zh: input.name.zh,
          unit: input.unit,
          wearing: input.wearing ? 1 : 0,
          machinable: input.machinable ? 1 : 0,
          fits_models: JSON.stringify(input.fitsModels),
          fits_modules: JSON.stringify(input.fitsModules),
          lead_time_days: input.leadTimeDays,
          updated_at: now(),
        })
        .where('part_no', '=', input.partNo)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new PlatformError('PART_NOT_FOUND', `part ${input.partNo} not found`);
      await tx.deleteFrom('parts_suppliers').where('part_no', '=', input.partNo).execute();
      if (input.suppliers.length)
        await tx
          .insertInto('parts_suppliers')
          .values(input.suppliers.map((s) => ({ part_no: input.partNo, supplier_id: s.id, supplier_name: s.name })))
          .execute();
    });
    return part(input.partNo);
  }

  async function stores(): Promise<Store[]> {
    const rows = await db.selectFrom('stock_stores').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as StoreKind,
      name: { en: r.name_en, zh: r.name_zh },
      lat: r.lat,
      lon: r.lon,
      address: r.address,
    }));
  }

  async function store(id: string): Promise<Store> {
    const s = (await stores()).find((x) => x.id === id);
    if (!s) throw new PlatformError('STORE_NOT_FOUND', `store ${id} not found`);
    return s;
  }

  async function addStore(input: Store): Promise<Store> {
    const exists = await db.selectFrom('stock_stores').select('id').where('id', '=', input.id).executeTakeFirst();
    if (exists) throw new PlatformError('STOCK_EXISTS', `store ${input.id} exists already`);
    await db
      .insertInto('stock_stores')
      .values({
        id: input.id,
        kind: input.kind,
        name_en: input.name.en,
        name_zh: input.name.zh,
        lat: input.lat,
        lon: input.lon,
        address: input.address,
        created_at: now(),
      })
      .execute();
    return store(input.id);
  }

  /** Changes a store's kind, names, position and address; its id stays (the ledger names it). */
  async function updateStore(input: Store): Promise<Store> {
    const r = await db
      .updateTable('stock_stores')
      .set({
        kind: input.kind,
        name_en: input.name.en,
        name_zh: input.name.zh,
        lat: input.lat,
        lon: input.lon,
        address: input.address,
      })
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new PlatformError('STORE_NOT_FOUND', `store ${input.id} not found`);
    return store(input.id);
  }

  /** Sets a part's min/max stock level at a store (below min → a replenishment proposal). */
  async function setLevel(partNo: string, storeId: string, min: number, max: number): Promise<void> {
    await part(partNo);
    await store(storeId);
    if (max < min) throw new PlatformError('INVALID_ARGUMENT', 'max must be at least min');
    await db
      .insertInto('stock_levels')
      .values({ part_no: partNo, store_id: storeId, min_qty: min, max_qty: max })
      .onConflict((oc) => oc.columns(['part_no', 'store_id']).doUpdateSet({ min_qty: min, max_qty: max }))
      .execute();
  }

  return { parts, part, addPart, updatePart, stores, store, addStore, updateStore, setLevel };
}

export type Catalogue = ReturnType<typeof createCatalogue>;
