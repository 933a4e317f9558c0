// Charts of the report (Recharts): results over time, and the split within each bucket of a trait or signal.

import { useState, type FormEvent } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { q } from "../api";
import { Failure } from "../components";
import { lift, percent } from "../format";
import { useApi } from "../hooks";
import type { Breakdown as BreakdownData, Timeseries } from "../types";
import { SplitTable } from "./SplitTable";

const COLOURS = ["#1f6feb", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0b7285"];

export function OverTime({ journey, split, goal, scale }: { journey: string; split: string; goal: string; scale: "relative" | "absolute" }) {
  const series = useApi<Timeseries>(`/api/journeys/${q(journey)}/report/timeseries?split=${q(split)}&goal=${q(goal)}&interval=day&scale=${scale}`);
  if (series.error) return <Failure error={series.error} />;
  const points = series.data?.points ?? [];
  if (points.length === 0) return null;
  const variants = points[points.length - 1]?.result.variants.map((v) => v.variant) ?? [];
  const rows = points.map((point) => {
    const row: Record<string, number | string | null> = { day: point.until.slice(0, 10) };
    for (const v of point.result.variants) {
      row[`rate:${v.variant}`] = v.conversion_rate;
      if (!v.is_control) row[`lift:${v.variant}`] = v.lift;
    }
    return row;
  });
  return (
    <figure className="panel chart" aria-label={`${split} over time`}>
      <figcaption>Cumulative conversion rate and lift by day</figcaption>
      <div className="chart-pair">
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" />
            <YAxis tickFormatter={(v: number) => percent(v, 0)} />
            <Tooltip formatter={(v) => percent(Number(v))} />
            <Legend />
            {variants.map((name, i) => (
              <Line key={name} dataKey={`rate:${name}`} name={`${name} rate`} stroke={COLOURS[i % COLOURS.length]} dot={false} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" />
            <YAxis tickFormatter={(v: number) => lift(v, scale)} />
            <Tooltip formatter={(v) => lift(Number(v), scale)} />
            <Legend />
            {variants.map((name, i) => (
              <Line key={name} dataKey={`lift:${name}`} name={`${name} lift`} stroke={COLOURS[i % COLOURS.length]} dot={false} isAnimationActive={false} connectNulls />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function Breakdown({ journey, split, goal, scale }: { journey: string; split: string; goal: string; scale: "relative" | "absolute" }) {
  const [by, setBy] = useState("");
  const [buckets, setBuckets] = useState("");
  const [asked, setAsked] = useState<string | null>(null);
  const data = useApi<BreakdownData>(asked);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams({ split, goal, by, scale });
    if (buckets.trim()) params.set("buckets", buckets.trim());
    setAsked(`/api/journeys/${q(journey)}/report/breakdown?${params}`);
  };
  const variants = data.data?.buckets[0]?.result.variants.map((v) => v.variant) ?? [];
  const rows = (data.data?.buckets ?? []).map((b) => Object.fromEntries([["bucket", b.bucket], ...b.result.variants.map((v) => [v.variant, v.conversion_rate])]));
  return (
    <details className="panel">
      <summary>Breakdown of {split} by a trait or signal</summary>
      <form className="filters" onSubmit={submit}>
        <label>
          By <input value={by} onChange={(e) => setBy(e.target.value)} placeholder="signals.cart_value or traits.plan" required pattern="(traits|signals)\..+" />
        </label>
        <label>
          Buckets <input value={buckets} onChange={(e) => setBuckets(e.target.value)} placeholder="e.g. 50,150" />
        </label>
        <button type="submit">Break down</button>
      </form>
      <Failure error={data.error} />
      {rows.length > 0 && (
        <>
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={rows}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="bucket" />
              <YAxis tickFormatter={(v: number) => percent(v, 0)} />
              <Tooltip formatter={(v) => percent(Number(v))} />
              <Legend />
              {variants.map((name, i) => (
                <Bar key={name} dataKey={name} fill={COLOURS[i % COLOURS.length]} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
          {data.data?.buckets.map((b) => <SplitTable key={b.bucket} split={b.result} title={`${data.data?.by} ${b.bucket}`} />)}
        </>
      )}
    </details>
  );
}
