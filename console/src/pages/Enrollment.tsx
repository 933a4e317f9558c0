// One enrollment's timeline: every step with its time and what was decided there and why.

import { Link, useParams } from "react-router-dom";
import { call, q } from "../api";
import { ConfirmButton, Failure, KeyValues } from "../components";
import { when } from "../format";
import { useApi } from "../hooks";
import { useSession } from "../session";
import type { Delivery, EnrollmentDetail, Step } from "../types";

function Decision({ step }: { step: Step }) {
  const d = step.decision;
  if (!d) return null;
  const read = (d.signals || d.traits) as unknown;
  if (step.node_type === "branch") {
    return (
      <div className="decision">
        <p>
          {d.case === "default" ? "No case matched: default" : `Case ${Number(d.case) + 1} matched`} → <strong>{String(d.next)}</strong>
        </p>
        {read ? (
          <>
            <h4>Values read</h4>
            <KeyValues label={`signals read at ${step.node_id}`} values={(d.signals ?? {}) as Record<string, unknown>} />
            {Object.keys((d.traits ?? {}) as object).length > 0 && <KeyValues label={`traits read at ${step.node_id}`} values={d.traits as Record<string, unknown>} />}
            {Object.entries((d.explanations ?? {}) as Record<string, { feature: string; text: string }[]>).map(([signal, reasons]) => (
              <div key={signal}>
                <h4>Why {signal}</h4>
                <ul aria-label={`Why ${signal} at ${step.node_id}`}>
                  {reasons.map((r) => (
                    <li key={r.feature}>{r.text}</li>
                  ))}
                </ul>
              </div>
            ))}
          </>
        ) : null}
      </div>
    );
  }
  if (step.node_type === "split") {
    return (
      <p className="decision">
        Assigned variant <strong>{String(d.variant)}</strong> (control {String(d.control)})
      </p>
    );
  }
  return <KeyValues label={`decision at ${step.node_id}`} values={d} />;
}

function DeliveryRow({ delivery }: { delivery: Delivery }) {
  const held = delivery.status === "skipped" || delivery.status === "deferred" || delivery.status === "failed";
  return (
    <li className={`delivery status-${delivery.status}`}>
      <p>
        <strong>{delivery.channel}</strong> {delivery.template && `· ${delivery.template} v${delivery.template_version ?? "?"}`} · <span className="badge">{delivery.status}</span>{" "}
        {held && delivery.reason && <span>— {delivery.reason}</span>}
      </p>
      <p className="muted">
        at node {delivery.node_key} · created {when(delivery.created_at)} {delivery.sent_at && `· sent ${when(delivery.sent_at)}`}
      </p>
      <details>
        <summary>Rendered content</summary>
        <pre>{JSON.stringify(delivery.payload, null, 2)}</pre>
      </details>
    </li>
  );
}

export function EnrollmentPage() {
  const id = useParams().id as string;
  const { data, error, reload } = useApi<EnrollmentDetail>(`/api/enrollments/${q(id)}`, 3000);
  const { session } = useSession();
  if (error) return <Failure error={error} />;
  if (!data) return <p className="loading">Loading…</p>;
  const exit = async () => {
    await call(`/api/enrollments/${q(id)}/exit`, { method: "POST" });
    reload();
  };
  return (
    <section>
      <div className="heading">
        <h1>Enrollment {data.id.slice(0, 12)}</h1>
        <span className="badge">{data.status}</span>
        {data.status === "active" && session.role === "admin" && (
          <ConfirmButton label="Exit" title="End this enrollment now?" confirm="Exit" danger onConfirm={exit}>
            <p>It ends as exited:operator; nothing more is sent.</p>
          </ConfirmButton>
        )}
      </div>
      <p>
        <Link to={`/journeys/${data.journey}`}>{data.journey}</Link> v{data.version} · profile <Link to={`/profiles/${q(data.profile_id)}`}>{data.profile_id}</Link>
        {data.correlation && ` · for ${data.correlation}`} {data.holdout && <span className="badge">holdout</span>}
      </p>
      {data.live && (
        <section className="panel" aria-label="Waiting for">
          <h2>Now</h2>
          <KeyValues label="what it waits for" values={data.live} />
        </section>
      )}
      <h2>Timeline</h2>
      <ol className="timeline" aria-label="Timeline">
        {data.steps.map((step) => (
          <li key={`${step.node_id}-${step.visit}`} data-step={step.node_id}>
            <time dateTime={step.entered_at}>{when(step.entered_at)}</time>
            <div>
              <strong>{step.node_id}</strong> <span className="badge">{step.node_type}</span>
              {step.visit > 1 && <span className="muted"> visit {step.visit}</span>}
              <Decision step={step} />
              {data.deliveries
                .filter((d) => d.node_key === step.node_id)
                .map((d) => (
                  <ul key={d.id} className="deliveries">
                    <DeliveryRow delivery={d} />
                  </ul>
                ))}
            </div>
          </li>
        ))}
        {data.ended_at && (
          <li>
            <time dateTime={data.ended_at}>{when(data.ended_at)}</time>
            <div>
              <strong>ended</strong> <span className="badge">{data.status}</span>
            </div>
          </li>
        )}
      </ol>
      {data.exposures.length > 0 && (
        <>
          <h2>Split assignments</h2>
          <ul>
            {data.exposures.map((x) => (
              <li key={x.node_id}>
                {x.node_id}: <strong>{x.variant}</strong> at {when(x.exposed_at)}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
