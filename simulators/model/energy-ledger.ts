/**
 * Energy accounting over a model's life, in watt-hours, so that tests can check the balance of
 * every bus: AC (sources = load + charger input), DC (charger + alternator = house load + inverter
 * input + battery terminals) and the battery (terminals = stored + losses).
 */
export interface EnergyLedger {
  mainsWh: number;
  generatorWh: number;
  loadWh: number;
  chargerInWh: number;
  chargerOutWh: number;
  alternatorWh: number;
  dcLoadWh: number;
  inverterInWh: number;
  batteryTerminalWh: number;
  batteryStoredWh: number;
  batteryLossWh: number;
  /** Charge that went to gas instead of the plates, Ah. */
  gassedAh: number;
  /** ∫ battery current dt, Ah (positive = in). */
  batteryAh: number;
  /** Unserved demand while the source was `none`, Wh. */
  unservedWh: number;
}

export function emptyLedger(): EnergyLedger {
  return {
    mainsWh: 0,
    generatorWh: 0,
    loadWh: 0,
    chargerInWh: 0,
    chargerOutWh: 0,
    alternatorWh: 0,
    dcLoadWh: 0,
    inverterInWh: 0,
    batteryTerminalWh: 0,
    batteryStoredWh: 0,
    batteryLossWh: 0,
    gassedAh: 0,
    batteryAh: 0,
    unservedWh: 0,
  };
}
