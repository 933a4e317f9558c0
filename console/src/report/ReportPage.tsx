// The analysts' page: per split and goal the variants with their intervals, lift against control,
// chance to beat it, p-values and the verdict; the SRM banner; holdout; results over time; breakdown;
// funnel; CSV export. Every figure comes from the report endpoints (docs/statistics.md).

import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { q } from "../api";
import { Failure } from "../components";
import { count } from "../format";
import { useApi } from "../hooks";
import type { Report } from "../types";
import { Breakdown, OverTime } from "./charts";
import { SplitTable } from "./SplitTable";

export default function ReportPage() {
  const key = useParams().key as string;
  const [goal, setGoal] = useState("");
  const [scale, setScale] = useState<"relative" | "absolute">("relative");
  const params = new URLSearchParams({ scale });
  if (goal) params.set("goal", goal);
  const report = useApi<Report>(`/api/journeys/${q(key)}/report?${params}`);
  if (report.error) return <Failure error={report.error} />;
  if (!report.data) return <p className="loading">Loading…</p>;
  const r = report.data;
  const splits = r.splits;
  return (
    <section>
      <div className="heading">
        <h1>
          Report: <Link to={`/journeys/${key}`}>{key}</Link>
        </h1>
        <a className="button" href={`/api/journeys/${q(key)}/report?${params}&format=csv`} download={`${key}-report.csv`}>
          Export CSV
        </a>
      </div>
      <div className="filters">
        <label>
          Goal{" "}
          <select value={goal} onChange={(e) => setGoal(e.target.value)}>
            <option value="">every goal</option>
            {r.goals.map((g) => (
              <option key={g}>{g}</option>
            ))}
          </select>
        </label>
        <label>
          Scale{" "}
          <select value={scale} onChange={(e) => setScale(e.target.value as "relative" | "absolute")}>
            <option value="relative">relative lift</option>
            <option value="absolute">absolute difference</option>
          </select>
        </label>
      </div>
      <h2>Splits</h2>
      {splits.length === 0 && <p className="muted">No split has exposures yet.</p>}
      {splits.map((split) => (
        <div key={`${split.node}-${split.goal}`}>
          <SplitTable split={split} title={`${split.node} · goal ${split.goal}`} />
          <OverTime journey={key} split={split.node} goal={split.goal} scale={scale} />
          <Breakdown journey={key} split={split.node} goal={split.goal} scale={scale} />
        </div>
      ))}
      <h2>Holdout</h2>
      {r.holdout.length === 0 ? <p className="muted">No holdout exposures.</p> : r.holdout.map((h) => <SplitTable key={h.goal} split={h} title={`holdout · goal ${h.goal}`} />)}
      <h2>Funnel</h2>
      <div className="scroll">
        <table aria-label="Funnel">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Entered</th>
              <th scope="col">Waiting now</th>
              <th scope="col">Ended there</th>
            </tr>
          </thead>
          <tbody>
            {r.funnel.map((step) => (
              <tr key={step.node}>
                <th scope="row">{step.node}</th>
                <td>{count(step.entered)}</td>
                <td>{count(step.waiting)}</td>
                <td>
                  {Object.entries(step.ended)
                    .map(([status, n]) => `${status} ${count(n)}`)
                    .join(", ") || "–"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
