// Named segments: each with its members now (refreshed), and for one segment its members and history.

import { Link, useParams } from "react-router-dom";
import { q } from "../api";
import { Failure } from "../components";
import { count, when } from "../format";
import { describeCondition } from "../graph/model";
import { useApi } from "../hooks";

interface Segment {
  key: string;
  name: string;
  description: string | null;
  version: number;
  condition: Record<string, unknown>;
  members: number;
  updated_at: string;
}

export default function SegmentsPage() {
  const key = useParams().key;
  const list = useApi<Segment[]>("/api/segments", 5000);
  return (
    <section>
      <h1>Segments</h1>
      <Failure error={list.error} />
      <div className="scroll">
        <table aria-label="Segments">
          <thead>
            <tr>
              <th scope="col">Segment</th>
              <th scope="col">Condition</th>
              <th scope="col">Members now</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((s) => (
              <tr key={s.key} data-segment={s.key}>
                <td>
                  <Link to={`/segments/${q(s.key)}`}>{s.name}</Link>
                  <div className="muted">{s.key}</div>
                </td>
                <td>{describeCondition(s.condition)}</td>
                <td data-count="members">{count(s.members)}</td>
                <td>v{s.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.length === 0 && <p className="muted">No segments yet: PUT /api/segments/&#123;key&#125; (see the API docs).</p>}
      </div>
      {key && <SegmentDetail segment={key} />}
    </section>
  );
}

function SegmentDetail({ segment }: { segment: string }) {
  const members = useApi<{ profile_id: string; since: string }[]>(`/api/segments/${q(segment)}/members?limit=50`, 5000);
  const history = useApi<{ id: number; profile_id: string; change: string; version: number; at: string }[]>(`/api/segments/${q(segment)}/history?limit=50`, 5000);
  return (
    <div className="columns">
      <section className="panel" aria-label="Members">
        <h2>Members</h2>
        <Failure error={members.error} />
        <ul>
          {(members.data ?? []).map((m) => (
            <li key={m.profile_id}>
              <Link to={`/profiles/${q(m.profile_id)}`}>{m.profile_id}</Link> <span className="muted">since {when(m.since)}</span>
            </li>
          ))}
        </ul>
      </section>
      <section className="panel" aria-label="History">
        <h2>Entries and exits</h2>
        <ul>
          {(history.data ?? []).map((h) => (
            <li key={h.id}>
              {when(h.at)} · <Link to={`/profiles/${q(h.profile_id)}`}>{h.profile_id}</Link> {h.change} (v{h.version})
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
