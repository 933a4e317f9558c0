import { barSpan } from "../format";
import type { Range } from "../types";

/** An interval drawn on a shared axis, with the point estimate as a tick (and zero marked for lifts). */
export function IntervalBar({ range, point, min, max, label, zero }: { range: Range | null; point: number | null; min: number; max: number; label: string; zero?: boolean }) {
  if (!range) return <span className="muted">–</span>;
  const { left, width } = barSpan(range, min, max);
  const at = (value: number) => barSpan({ low: value, high: value }, min, max).left;
  return (
    <div className="interval" role="img" aria-label={label}>
      {zero && <span className="interval-zero" style={{ left: `${at(0)}%` }} />}
      <span className={`interval-bar${zero && range.low > 0 ? " up" : zero && range.high < 0 ? " down" : ""}`} style={{ left: `${left}%`, width: `${width}%` }} />
      {point !== null && <span className="interval-point" style={{ left: `${at(point)}%` }} />}
    </div>
  );
}
