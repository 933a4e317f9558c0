// Templates: list, edit with the API's validation, and preview rendered for a real profile.

import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, call, q } from "../api";
import { Failure, ProfilePreview } from "../components";
import { when } from "../format";
import { useApi } from "../hooks";
import { useSession } from "../session";
import type { Preview, Template } from "../types";

export default function TemplatesPage() {
  const name = useParams().name;
  const list = useApi<Template[]>("/api/templates");
  return (
    <section>
      <h1>Templates</h1>
      <div className="editor-layout">
        <nav aria-label="Templates" className="panel">
          <ul>
            {(list.data ?? []).map((t) => (
              <li key={t.name}>
                <Link to={`/templates/${q(t.name)}`} aria-current={t.name === name ? "page" : undefined}>
                  {t.name}
                </Link>{" "}
                <span className="muted">v{t.version}</span>
              </li>
            ))}
          </ul>
          <Failure error={list.error} />
        </nav>
        {name ? <TemplateEditor key={name} name={name} onSaved={list.reload} /> : <p className="muted">Pick a template.</p>}
      </div>
    </section>
  );
}

function TemplateEditor({ name, onSaved }: { name: string; onSaved: () => void }) {
  const { session } = useSession();
  const found = useApi<Template>(`/api/templates/${q(name)}`);
  const [draft, setDraft] = useState<{ subject: string; body: string; html: string } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);

  useEffect(() => {
    if (found.data && draft === null) setDraft({ subject: found.data.subject ?? "", body: found.data.body, html: found.data.html ?? "" });
  }, [found.data, draft]);

  if (found.error) return <Failure error={found.error} />;
  if (!draft || !found.data) return <p className="loading">Loading…</p>;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setProblems([]);
    try {
      const saved = await call<Template & { warnings: string[] }>(`/api/templates/${q(name)}`, {
        method: "PUT",
        json: { subject: draft.subject || null, body: draft.body, html: draft.html || null },
      });
      setStatus(`Saved as v${saved.version}.${saved.warnings.length ? ` Warnings: ${saved.warnings.join("; ")}` : ""}`);
      onSaved();
    } catch (failure) {
      setStatus(null);
      setProblems(failure instanceof ApiError && failure.problems.length ? failure.problems.map((p) => `${p.path}: ${p.message}`) : [String(failure)]);
    }
  };
  const field = (key: "subject" | "body" | "html", label: string, rows: number) => (
    <label className="block">
      {label}
      <textarea rows={rows} value={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} readOnly={session.role !== "admin"} spellCheck={false} />
    </label>
  );
  return (
    <div className="panel">
      <h2>
        {name} <span className="muted">v{found.data.version} · {when(found.data.updated_at)}</span>
      </h2>
      <form onSubmit={save}>
        {field("subject", "Subject", 1)}
        {field("body", "Text body", 8)}
        {field("html", "HTML body", 8)}
        {session.role === "admin" && <button type="submit">Save</button>}
        {status && <p role="status">{status}</p>}
        {problems.length > 0 && (
          <ul role="alert" className="error">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </form>
      <ProfilePreview<Preview> path={`/api/templates/${q(name)}/preview`}>
        {(preview) => (
          <div className="preview" aria-label="Rendered preview">
            {preview.subject && (
              <p>
                <strong>Subject:</strong> {preview.subject}
              </p>
            )}
            {preview.body && <pre>{preview.body}</pre>}
            {preview.html && <iframe title="HTML preview" sandbox="" srcDoc={preview.html} />}
          </div>
        )}
      </ProfilePreview>
    </div>
  );
}
