import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { q } from "../api";
import { Failure } from "../components";
import { count, percent, when } from "../format";
import { JourneyGraph } from "../graph/JourneyGraph";
import { useApi } from "../hooks";
import type { EnrollmentSummary, JourneyActivity, JourneyDetail, VersionDetail, VersionDiff } from "../types";
import { Lifecycle } from "./Journeys";

const STATUSES = ["", "active", "completed", "exited:goal", "exited:criteria", "exited:operator", "failed"];

export function JourneyPage() {
  const key = useParams().key as string;
  const journey = useApi<JourneyDetail>(`/api/journeys/${q(key)}`);
  const [picked, setPicked] = useState<number | null>(null);
  const version = picked ?? journey.data?.latest_version ?? null;
  const shown = useApi<VersionDetail>(version ? `/api/journeys/${q(key)}/versions/${version}` : null);
  const activity = useApi<JourneyActivity>(version ? `/api/journeys/${q(key)}/activity?version=${version}` : null, 2000);

  if (journey.error) return <Failure error={journey.error} />;
  if (!journey.data) return <p className="loading">Loading…</p>;
  const detail = journey.data;
  return (
    <section>
      <div className="heading">
        <h1>{detail.name}</h1>
        <span className={`status status-${detail.status}`}>{detail.status}</span>
        <Lifecycle journey={detail} onChange={journey.reload} />
        <Link className="button" to={`/journeys/${key}/edit`}>
          Edit
        </Link>
        <Link className="button" to={`/journeys/${key}/report`}>
          Report
        </Link>
      </div>
      {activity.data && (
        <dl className="stats" aria-label="Activity">
          <div><dt>Running now</dt><dd>{count(activity.data.active)}</dd></div>
          <div><dt>Entered 24 h</dt><dd>{count(activity.data.entered_24h)}</dd></div>
          <div><dt>Entered 7 d</dt><dd>{count(activity.data.entered_7d)}</dd></div>
          <div><dt>Converted 7 d</dt><dd>{count(activity.data.converted_7d)}</dd></div>
          <div><dt>Goal conversion</dt><dd>{percent(activity.data.conversion_rate)}</dd></div>
        </dl>
      )}
      <label>
        Version{" "}
        <select aria-label="Version" value={version ?? ""} onChange={(e) => setPicked(Number(e.target.value))}>
          {[...detail.versions].reverse().map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version} · {when(v.published_at)} · {v.author}
            </option>
          ))}
        </select>
      </label>
      <JourneyGraph definition={shown.data?.definition} counts={activity.data?.nodes ?? []} />
      <p className="muted">Counts of v{version}, refreshed every 2 seconds.</p>
      {detail.versions.length > 1 && <Diff journey={key} versions={detail.versions.map((v) => v.version)} />}
      <Enrollments journey={key} />
    </section>
  );
}

function Diff({ journey, versions }: { journey: string; versions: number[] }) {
  const last = versions[versions.length - 1] as number;
  const [from, setFrom] = useState(last - 1);
  const [to, setTo] = useState(last);
  const diff = useApi<VersionDiff>(from !== to ? `/api/journeys/${q(journey)}/diff?from=${from}&to=${to}` : null);
  const pick = (value: number, set: (n: number) => void, label: string) => (
    <select aria-label={label} value={value} onChange={(e) => set(Number(e.target.value))}>
      {versions.map((v) => (
        <option key={v} value={v}>
          v{v}
        </option>
      ))}
    </select>
  );
  return (
    <details className="panel">
      <summary>Compare versions</summary>
      <p>
        {pick(from, setFrom, "From version")} → {pick(to, setTo, "To version")}
      </p>
      {from !== to && diff.data && <pre className="diff">{diff.data.unified || "No changes."}</pre>}
    </details>
  );
}

function Enrollments({ journey }: { journey: string }) {
  const [status, setStatus] = useState("");
  const [node, setNode] = useState("");
  const [profile, setProfile] = useState("");
  const params = new URLSearchParams({ limit: "50" });
  if (status) params.set("status", status);
  if (node) params.set("node", node);
  if (profile) params.set("profile", profile);
  const list = useApi<EnrollmentSummary[]>(`/api/journeys/${q(journey)}/enrollments?${params}`, 5000);
  return (
    <section className="panel">
      <h2>Enrollments</h2>
      <div className="filters">
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Node <input value={node} onChange={(e) => setNode(e.target.value.trim())} placeholder="any" />
        </label>
        <label>
          Profile <input value={profile} onChange={(e) => setProfile(e.target.value.trim())} placeholder="id, user id or anonymous id" />
        </label>
      </div>
      <Failure error={list.error} />
      <div className="scroll">
        <table aria-label="Enrollments">
          <thead>
            <tr>
              <th scope="col">Enrollment</th>
              <th scope="col">Profile</th>
              <th scope="col">Status</th>
              <th scope="col">Node</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((e) => (
              <tr key={e.id}>
                <td>
                  <Link to={`/enrollments/${e.id}`}>{e.id.slice(0, 12)}</Link>
                  {e.holdout && <span className="badge">holdout</span>}
                </td>
                <td>
                  <Link to={`/profiles/${q(e.profile_id)}`}>{e.profile_id}</Link>
                </td>
                <td>{e.status}</td>
                <td>{e.current_node ?? "–"}</td>
                <td>{when(e.started_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
