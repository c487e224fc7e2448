/** Frames the consoles received against those they should have, vehicle by vehicle. */
export interface Delivery {
  expected: number;
  delivered: number;
  /** Σ over vehicles of what fell short of the expected count. */
  missing: number;
  /** Σ over vehicles of what came beyond it (duplicates, or frames the throttle should have merged). */
  extra: number;
}

/**
 * Every console watching a vehicle should receive each frame of it published in the window, up to
 * what the live throttle lets through: at most maxRateHz frames a second per vehicle (latest wins),
 * i.e. floor(window · maxRateHz) + 1 in the window. At 1 Hz and the default 4 Hz that is every frame.
 */
export function delivery(
  subscriptions: readonly number[],
  published: readonly number[],
  delivered: readonly number[],
  windowS: number,
  maxRateHz: number,
): Delivery {
  const cap = Math.floor(windowS * maxRateHz) + 1;
  const d: Delivery = { expected: 0, delivered: 0, missing: 0, extra: 0 };
  for (let i = 0; i < subscriptions.length; i++) {
    const e = subscriptions[i]! * Math.min(published[i] ?? 0, cap);
    const got = delivered[i] ?? 0;
    d.expected += e;
    d.delivered += got;
    if (got < e) d.missing += e - got;
    else d.extra += got - e;
  }
  return d;
}
