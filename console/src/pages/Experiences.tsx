// Real-time experiences: each placement's rules and variations, decisions in the last day, variations
// rendered for a chosen profile, and the split's and holdout's reports.

import { Link, useParams } from "react-router-dom";
import { q } from "../api";
import { Failure, ProfilePreview } from "../components";
import { count } from "../format";
import { describeCondition } from "../graph/model";
import { useApi } from "../hooks";
import { SplitTable } from "../report/SplitTable";
import type { SplitResult } from "../types";

interface Experience {
  key: string;
  placement: string;
  version: number;
  definition: {
    name: string;
    rules?: { when: unknown; variation: string }[];
    default: string;
    split?: { weights: Record<string, number>; control: string };
    holdout?: number;
    goal?: { event: string; within: string };
    variations: Record<string, { content?: string; payload?: unknown }>;
  };
  decisions_24h?: Record<string, number>;
}

interface Preview {
  matches: string;
  signals: Record<string, unknown>;
  variations: Record<string, { content: string | null; payload: unknown; fails: boolean }>;
}

export default function ExperiencesPage() {
  const key = useParams().key;
  const list = useApi<Experience[]>("/api/experiences");
  return (
    <section>
      <h1>Experiences</h1>
      <Failure error={list.error} />
      <div className="scroll">
        <table aria-label="Experiences">
          <thead>
            <tr>
              <th scope="col">Experience</th>
              <th scope="col">Placement</th>
              <th scope="col">Rules</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((x) => (
              <tr key={x.key}>
                <td>
                  <Link to={`/experiences/${q(x.key)}`}>{x.definition.name}</Link>
                </td>
                <td>{x.placement}</td>
                <td>{x.definition.rules?.length ?? 0}</td>
                <td>v{x.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {key && <ExperienceDetail key={key} experience={key} />}
    </section>
  );
}

function ExperienceDetail({ experience }: { experience: string }) {
  const found = useApi<Experience>(`/api/experiences/${q(experience)}`, 5000);
  if (found.error) return <Failure error={found.error} />;
  if (!found.data) return <p className="loading">Loading…</p>;
  const x = found.data;
  return (
    <>
      <section className="panel" aria-label="Rules">
        <h2>{x.definition.name}</h2>
        <ol>
          {(x.definition.rules ?? []).map((rule, i) => (
            <li key={i}>
              {describeCondition(rule.when)} → <strong>{rule.variation}</strong>
            </li>
          ))}
        </ol>
        <p>
          {x.definition.split ? `No rule: split ${Object.entries(x.definition.split.weights).map(([v, w]) => `${v} ${w}%`).join(" · ")}` : `No rule: ${x.definition.default}`}
        </p>
        {x.definition.holdout ? <p>Holdout: {x.definition.holdout}% see only {x.definition.default}</p> : null}
        <table aria-label="Decisions in the last 24 hours">
          <thead>
            <tr>
              <th scope="col">Variation</th>
              <th scope="col">Decisions, 24 h</th>
            </tr>
          </thead>
          <tbody>
            {Object.keys(x.definition.variations).map((name) => (
              <tr key={name} data-variation={name}>
                <th scope="row">{name}</th>
                <td>{count(x.decisions_24h?.[name] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-label="Preview">
        <ProfilePreview<Preview> path={`/api/experiences/${q(experience)}/preview`}>
          {(preview) => (
            <>
              <p role="status">They match: {preview.matches}</p>
              <div className="columns">
                {Object.entries(preview.variations).map(([name, v]) => (
                  <figure key={name} className="panel" aria-label={`variation ${name}`}>
                    <figcaption>{name}</figcaption>
                    {v.fails ? <p className="error">The template fails for this person: the default shows.</p> : v.content !== null ? <iframe title={`${name} preview`} sandbox="" srcDoc={v.content} /> : <pre>{JSON.stringify(v.payload, null, 2)}</pre>}
                  </figure>
                ))}
              </div>
            </>
          )}
        </ProfilePreview>
      </section>
      {(x.definition.split || x.definition.holdout) && x.definition.goal && <ExperienceReport experience={experience} />}
    </>
  );
}

function ExperienceReport({ experience }: { experience: string }) {
  const report = useApi<{ split: SplitResult | null; holdout: SplitResult | null }>(`/api/experiences/${q(experience)}/report`, 10000);
  if (report.error) return <Failure error={report.error} />;
  const { split, holdout } = report.data ?? { split: null, holdout: null };
  return (
    <>
      {split && <SplitTable split={split} title={`Report · goal ${split.goal}`} />}
      {holdout && <SplitTable split={holdout} title={`Holdout · goal ${holdout.goal}`} />}
    </>
  );
}
