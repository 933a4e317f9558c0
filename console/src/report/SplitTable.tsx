import { count, interval, lift, money, percent, pIs, pValue } from "../format";
import type { SplitResult } from "../types";
import { IntervalBar } from "./IntervalBar";

/** One split (or the holdout) for one goal: a row per variant, the SRM banner and the verdict. */
export function SplitTable({ split, title }: { split: SplitResult; title: string }) {
  const rates = split.variants.flatMap((v) => (v.conversion_rate_interval ? [v.conversion_rate_interval.low, v.conversion_rate_interval.high] : [v.conversion_rate]));
  const lifts = split.variants.flatMap((v) => (v.lift_interval ? [v.lift_interval.low, v.lift_interval.high] : [])).concat([0]);
  const [rmin, rmax] = [Math.min(0, ...rates), Math.max(...rates, 0.01)];
  const [lmin, lmax] = [Math.min(...lifts), Math.max(...lifts)];
  const show = (value: number) => lift(value, split.scale);
  return (
    <section className="panel split" data-split={split.node} data-goal={split.goal}>
      <h3>{title}</h3>
      {split.srm_warning && (
        <p role="alert" className="banner">
          Sample ratio mismatch ({pIs(split.srm_p_value)}): the variants did not get the traffic their weights promise. Find out why before trusting these results.
        </p>
      )}
      <div className="scroll">
        <table aria-label={`${title} variants`}>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Exposures</th>
              <th scope="col">Conversions</th>
              <th scope="col">Rate (interval)</th>
              <th scope="col">Rate</th>
              <th scope="col">Lift vs {split.control} ({split.scale})</th>
              <th scope="col">Lift interval</th>
              <th scope="col">Chance to beat</th>
              <th scope="col">p</th>
              <th scope="col">p (Holm)</th>
              <th scope="col">Revenue / exposure</th>
            </tr>
          </thead>
          <tbody>
            {split.variants.map((v) => (
              <tr key={v.variant} data-variant={v.variant}>
                <th scope="row">
                  {v.variant} {v.is_control && <span className="badge">control</span>}
                </th>
                <td>{count(v.exposures)}</td>
                <td>{count(v.conversions)}</td>
                <td>
                  {percent(v.conversion_rate)} <span className="muted">({interval(v.conversion_rate_interval, (x) => percent(x))})</span>
                </td>
                <td className="bar-cell">
                  <IntervalBar range={v.conversion_rate_interval} point={v.conversion_rate} min={rmin} max={rmax} label={`${v.variant} rate ${percent(v.conversion_rate)}, interval ${interval(v.conversion_rate_interval, (x) => percent(x))}`} />
                </td>
                <td>{v.is_control ? "–" : show(v.lift ?? NaN)}</td>
                <td className="bar-cell">
                  {v.is_control ? (
                    <span className="muted">baseline</span>
                  ) : (
                    <>
                      <IntervalBar range={v.lift_interval} point={v.lift} min={lmin} max={lmax} zero label={`${v.variant} lift interval ${interval(v.lift_interval, show)}`} />
                      <span className="muted">{interval(v.lift_interval, show)}</span>
                    </>
                  )}
                </td>
                <td>{v.is_control ? "–" : percent(v.chance_to_beat_control, 0)}</td>
                <td>{pValue(v.p_value)}</td>
                <td>{pValue(v.p_value_holm)}</td>
                <td>{money(v.revenue_per_exposure)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="verdict">{split.verdict}</p>
    </section>
  );
}
