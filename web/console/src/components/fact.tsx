/** One labelled value in a page's facts grid (vehicle state, ticket deadlines). */
import type { ComponentChildren } from 'preact';

export function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <div class="fact-label">{label}</div>
      <div class="fact-value">{children}</div>
    </div>
  );
}
