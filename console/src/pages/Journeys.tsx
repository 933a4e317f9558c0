import { Link } from "react-router-dom";
import { call, q } from "../api";
import { ConfirmButton, Failure } from "../components";
import { count, percent } from "../format";
import { useApi } from "../hooks";
import { useSession } from "../session";
import type { JourneyOverview } from "../types";

export function Lifecycle({ journey, onChange }: { journey: { key: string; status: string }; onChange: () => void }) {
  const { session } = useSession();
  if (session.role !== "admin") return null;
  const act = (action: string) => async () => {
    await call(`/api/journeys/${q(journey.key)}/${action}`, { method: "POST" });
    onChange();
  };
  return (
    <span className="lifecycle">
      {journey.status === "live" && (
        <ConfirmButton label="Pause" title={`Pause ${journey.key}?`} confirm="Pause" onConfirm={act("pause")}>
          <p>No one new enters; running enrollments carry on.</p>
        </ConfirmButton>
      )}
      {journey.status === "paused" && (
        <ConfirmButton label="Resume" title={`Resume ${journey.key}?`} confirm="Resume" onConfirm={act("resume")}>
          <p>People enter again from the next event.</p>
        </ConfirmButton>
      )}
      {journey.status !== "archived" && (
        <ConfirmButton label="Archive" title={`Archive ${journey.key}?`} confirm="Archive for good" danger onConfirm={act("archive")}>
          <p>No entries and no publishing ever again; every running enrollment exits now.</p>
        </ConfirmButton>
      )}
    </span>
  );
}

export function JourneysPage() {
  const { data, error, reload } = useApi<JourneyOverview[]>("/api/journeys?activity=true", 5000);
  const { session } = useSession();
  return (
    <section>
      <div className="heading">
        <h1>Journeys</h1>
        {session.role === "admin" && (
          <Link className="button" to="/journeys/new">
            New journey
          </Link>
        )}
      </div>
      <Failure error={error} />
      {data && (
        <div className="scroll">
          <table aria-label="Journeys">
            <thead>
              <tr>
                <th scope="col">Journey</th>
                <th scope="col">Status</th>
                <th scope="col">Live version</th>
                <th scope="col">Running now</th>
                <th scope="col">Entered 24 h / 7 d</th>
                <th scope="col">Converted 24 h / 7 d</th>
                <th scope="col">Goal conversion</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((journey) => (
                <tr key={journey.key} data-journey={journey.key}>
                  <td>
                    <Link to={`/journeys/${journey.key}`}>{journey.name}</Link>
                    <div className="muted">{journey.key}</div>
                  </td>
                  <td>
                    <span className={`status status-${journey.status}`}>{journey.status}</span>
                  </td>
                  <td>{journey.latest_version ? `v${journey.latest_version}` : "–"}</td>
                  <td>{count(journey.activity.active)}</td>
                  <td>
                    {count(journey.activity.entered_24h)} / {count(journey.activity.entered_7d)}
                  </td>
                  <td>
                    {count(journey.activity.converted_24h)} / {count(journey.activity.converted_7d)}
                  </td>
                  <td>{percent(journey.activity.conversion_rate)}</td>
                  <td>
                    <Lifecycle journey={journey} onChange={reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.length === 0 && <p className="muted">No journeys yet.</p>}
        </div>
      )}
    </section>
  );
}
