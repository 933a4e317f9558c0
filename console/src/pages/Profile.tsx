import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { call, q } from "../api";
import { ConfirmButton, Failure, KeyValues } from "../components";
import { when } from "../format";
import { useApi } from "../hooks";
import { useSession } from "../session";
import type { ProfileView } from "../types";

export function ProfileSearch() {
  const [key, setKey] = useState("");
  const navigate = useNavigate();
  const go = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim()) navigate(`/profiles/${q(key.trim())}`);
  };
  return (
    <section>
      <h1>Profiles</h1>
      <form onSubmit={go} className="filters">
        <label>
          Profile id, user id or anonymous id <input value={key} onChange={(e) => setKey(e.target.value)} required />
        </label>
        <button type="submit">Open</button>
      </form>
    </section>
  );
}

interface Consent {
  channels: Record<string, boolean>;
  recorded: Record<string, boolean>;
}

interface Reason {
  feature: string;
  effect: number;
  text: string;
}

interface Predictions {
  model_id: number | null;
  signals: Record<string, unknown>;
  explanations: Record<string, Reason[]>;
}

interface InboxMessage {
  id: number;
  journey: string | null;
  subject: string | null;
  body: string;
  sent_at: string | null;
  read_at: string | null;
}

export function ProfilePage() {
  const key = useParams().key as string;
  const navigate = useNavigate();
  const { session } = useSession();
  const profile = useApi<ProfileView>(`/api/profiles/${q(key)}`, 5000);
  const consent = useApi<Consent>(`/api/profiles/${q(key)}/consent`);
  const inbox = useApi<InboxMessage[]>(`/api/profiles/${q(key)}/inbox`);
  const predictions = useApi<Predictions>(`/api/profiles/${q(key)}/predictions`, 5000);
  const [erased, setErased] = useState<string | null>(null);

  if (erased) return <p role="status">{erased}</p>;
  if (profile.error) return <Failure error={profile.error} />;
  if (!profile.data) return <p className="loading">Loading…</p>;
  const p = profile.data;
  const erase = async () => {
    const result = await call<{ enrollments_exited: number }>(`/api/profiles/${q(key)}`, { method: "DELETE" });
    setErased(`Erased ${key}; ${result.enrollments_exited} running enrollment(s) exited.`);
    window.setTimeout(() => navigate("/profiles"), 3000);
  };
  return (
    <section>
      <div className="heading">
        <h1>Profile {p.id}</h1>
        {session.role === "admin" && (
          <ConfirmButton label="Erase…" title={`Erase ${p.id}?`} confirm="Erase for good" danger onConfirm={erase}>
            <p>Events, traits and identities are deleted; running enrollments exit. This cannot be undone.</p>
          </ConfirmButton>
        )}
      </div>
      <div className="columns">
        <section className="panel">
          <h2>Traits</h2>
          <KeyValues label="Traits" values={p.traits} />
          <p className="muted">Time zone: {p.timezone ?? "unknown"}</p>
        </section>
        <section className="panel">
          <h2>Live signals</h2>
          <KeyValues label="Live signals" values={p.signals} />
        </section>
        <section className="panel">
          <h2>Identities</h2>
          <ul>
            {p.identities.map((identity) => (
              <li key={`${identity.kind}:${identity.value}`}>
                {identity.kind}: {identity.value}
              </li>
            ))}
          </ul>
          {p.merged_profiles.length > 0 && <p>Merged: {p.merged_profiles.join(", ")}</p>}
          <h2>Consent</h2>
          {consent.data ? (
            <KeyValues label="Consent" values={Object.fromEntries(Object.entries(consent.data.channels).map(([channel, ok]) => [channel, ok ? "may be used" : "no"]))} />
          ) : (
            <Failure error={consent.error} />
          )}
        </section>
      </div>
      <section className="panel" aria-label="Predictions">
        <h2>Predictions</h2>
        {predictions.data?.model_id == null ? (
          <p className="muted">No model trained yet.</p>
        ) : (
          <div className="columns">
            <KeyValues label="Predictive signals" values={predictions.data.signals} />
            <div>
              {Object.entries(predictions.data.explanations).map(([signal, reasons]) => (
                <div key={signal}>
                  <h3>Why {signal} is {String(predictions.data?.signals[signal])}</h3>
                  <ul aria-label={`Why ${signal}`}>
                    {reasons.map((r) => (
                      <li key={r.feature} className={r.effect > 0 ? "up" : "down"}>
                        {r.text}
                      </li>
                    ))}
                  </ul>
                </div>
              ))}
            </div>
          </div>
        )}
      </section>
      <section className="panel">
        <h2>Enrollments</h2>
        <ul>
          {p.enrollments.map((e) => (
            <li key={e.id}>
              <Link to={`/enrollments/${e.id}`}>{e.journey}</Link> v{e.version} · {e.status} {e.current_node && `at ${e.current_node}`} · {when(e.started_at)}
            </li>
          ))}
        </ul>
      </section>
      <section className="panel">
        <h2>Recent events</h2>
        <div className="scroll">
          <table aria-label="Recent events">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Properties</th>
              </tr>
            </thead>
            <tbody>
              {p.recent_events.map((event) => (
                <tr key={event.message_id}>
                  <td>{when(event.timestamp)}</td>
                  <td>{event.name ?? event.type}</td>
                  <td>
                    <code>{JSON.stringify(event.properties)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="panel">
        <h2>Inbox</h2>
        {(inbox.data ?? []).length === 0 ? (
          <p className="muted">No in-app messages.</p>
        ) : (
          <ul>
            {(inbox.data ?? []).map((m) => (
              <li key={m.id}>
                {m.subject ?? m.body} · {m.journey ?? ""} · {when(m.sent_at)} {m.read_at ? "· read" : "· unread"}
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}
