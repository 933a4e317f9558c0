// Predictive model versions: the models compared on held-out customers, the score distribution, clusters.

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Failure } from "../components";
import { count, when } from "../format";
import { useApi } from "../hooks";

interface Model {
  id: number;
  trained_at: string;
  horizon_days: number;
  window_start: string;
  window_end: string;
  customers: number;
  customers_with_orders: number;
  events: number;
  seconds: number;
  shipped: Record<string, string>;
  held_out: { held_out_customers: number; churn_rate: number; churn: Record<string, { auc: number; calibration_error: number }>; orders_mean_absolute_error: Record<string, number> };
  clusters: { descriptions: Record<string, string>; sizes: Record<string, number>; silhouette: number };
  score_distribution: number[];
}

const NAMES: Record<string, string> = { recency: "Recency heuristic", bgnbd: "BG/NBD", supervised: "Supervised (logistic)" };

export default function ModelsPage() {
  const models = useApi<Model[]>("/api/models");
  const latest = models.data?.[0];
  return (
    <section>
      <h1>Predictive models</h1>
      <Failure error={models.error} />
      {models.data?.length === 0 && <p className="muted">No model yet: train one with POST /api/models/train or `journeys models train`.</p>}
      {latest && (
        <>
          <p>
            Model {latest.id}, trained {when(latest.trained_at)} in {latest.seconds} s on {count(latest.customers)} customers ({count(latest.customers_with_orders)} with orders) and{" "}
            {count(latest.events)} events; horizon {latest.horizon_days} days.
          </p>
          <div className="columns">
            <section className="panel">
              <h2>Churn risk: held-out comparison</h2>
              <table aria-label="Held-out comparison">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">AUC</th>
                    <th scope="col">Calibration error</th>
                    <th scope="col">Orders MAE</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(latest.held_out.churn).map(([name, figures]) => (
                    <tr key={name} data-model={name}>
                      <th scope="row">
                        {NAMES[name] ?? name} {latest.shipped.churn_risk === name && <span className="badge">shipped</span>}
                      </th>
                      <td>{figures.auc.toFixed(3)}</td>
                      <td>{figures.calibration_error.toFixed(3)}</td>
                      <td>{latest.held_out.orders_mean_absolute_error[name]?.toFixed(3) ?? "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted">
                {count(latest.held_out.held_out_customers)} held-out customers, {(latest.held_out.churn_rate * 100).toFixed(0)}% of whom churned.
              </p>
            </section>
            <figure className="panel chart" aria-label="Score distribution">
              <figcaption>Customers by churn risk</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={latest.score_distribution.map((n, i) => ({ bucket: `${i * 10}–${i * 10 + 10}%`, customers: n }))}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="bucket" />
                  <YAxis />
                  <Tooltip />
                  <Bar dataKey="customers" fill="#1f6feb" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
          </div>
          <section className="panel">
            <h2>Clusters</h2>
            <table aria-label="Clusters">
              <thead>
                <tr>
                  <th scope="col">Cluster</th>
                  <th scope="col">Who</th>
                  <th scope="col">Customers</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(latest.clusters.descriptions).map(([id, words]) => (
                  <tr key={id}>
                    <th scope="row">{id}</th>
                    <td>{words}</td>
                    <td>{count(latest.clusters.sizes[id])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          {models.data && models.data.length > 1 && (
            <section className="panel">
              <h2>Earlier versions</h2>
              <ul>
                {models.data.slice(1).map((m) => (
                  <li key={m.id}>
                    Model {m.id} · {when(m.trained_at)} · shipped {m.shipped.churn_risk} · AUC {m.held_out.churn[m.shipped.churn_risk ?? ""]?.auc.toFixed(3)}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </section>
  );
}
