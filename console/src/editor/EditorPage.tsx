// Authoring: YAML with highlighting, validated by the API as you type; each problem shown at its line
// and its node highlighted in the live graph preview; save a draft, or publish after seeing the diff.

import { yaml as yamlLanguage } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import type { EditorView } from "@codemirror/view";
import CodeMirror from "@uiw/react-codemirror";
import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { parseDocument, stringify } from "yaml";
import { ApiError, call, q } from "../api";
import { ConfirmButton, Failure } from "../components";
import { JourneyGraph } from "../graph/JourneyGraph";
import { useApi } from "../hooks";
import { useSession } from "../session";
import type { Definition, JourneyDetail, ProblemOut, PublishResult, ValidationResult, VersionDiff } from "../types";
import { locate, type Located } from "./errors";

const STARTER = `key: my-journey
name: My journey
entry:
  event: signed_up
start: welcome
nodes:
  welcome:
    type: send
    channel: email
    template: welcome
    next: done
  done: {type: exit}
`;

interface Parsed {
  definition: Definition | null;
  syntax: Located[]; // YAML syntax errors, found in the browser before the API sees anything
}

function parse(source: string): Parsed {
  const document = parseDocument(source, { prettyErrors: false });
  if (document.errors.length > 0) {
    return {
      definition: null,
      syntax: document.errors.map((e) => ({ from: e.pos[0], to: Math.max(e.pos[0], e.pos[1]), line: e.linePos?.[0].line ?? 1, message: e.message.split("\n")[0] ?? e.message, path: "(yaml)", node: null })),
    };
  }
  const value: unknown = document.toJS();
  return { definition: typeof value === "object" && value !== null ? (value as Definition) : null, syntax: [] };
}

export default function EditorPage() {
  const key = useParams().key;
  const navigate = useNavigate();
  const { session } = useSession();
  const journey = useApi<JourneyDetail>(key ? `/api/journeys/${q(key)}` : null);
  const [source, setSource] = useState<string | null>(key ? null : STARTER);
  const [result, setResult] = useState<ValidationResult | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [diff, setDiff] = useState<VersionDiff | null>(null);
  const view = useRef<EditorView | null>(null);

  useEffect(() => {
    if (source === null && journey.data) setSource(stringify(journey.data.draft ?? journey.data.definition ?? {}, { lineWidth: 0 }));
  }, [journey.data, source]);

  const parsed = useMemo(() => parse(source ?? ""), [source]);

  // Validate through the API, 300 ms after the last keystroke.
  useEffect(() => {
    if (source === null || parsed.syntax.length > 0) return;
    let live = true;
    const timer = window.setTimeout(() => {
      call<ValidationResult>("/api/journeys/validate", { yaml: source }).then(
        (answer) => live && setResult(answer),
        (failure: unknown) => {
          if (!live) return;
          const problems: ProblemOut[] = failure instanceof ApiError && failure.problems.length ? failure.problems : [{ path: "(document)", message: String(failure) }];
          setResult({ valid: false, problems, warnings: [] });
        },
      );
    }, 300);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [source, parsed.syntax.length]);

  const located = useMemo<Located[]>(() => {
    if (parsed.syntax.length > 0) return parsed.syntax;
    return result ? locate(source ?? "", result.problems) : [];
  }, [parsed, result, source]);
  const warnings = useMemo(() => (result && parsed.syntax.length === 0 ? locate(source ?? "", result.warnings) : []), [parsed, result, source]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const diagnostics: Diagnostic[] = [
      ...located.map((p) => ({ from: p.from, to: p.to, severity: "error" as const, message: `${p.path}: ${p.message}` })),
      ...warnings.map((p) => ({ from: p.from, to: p.to, severity: "warning" as const, message: `${p.path}: ${p.message}` })),
    ].filter((d) => d.to <= editor.state.doc.length);
    editor.dispatch(setDiagnostics(editor.state, diagnostics));
  }, [located, warnings]);

  const problemNodes = useMemo(() => new Set(located.map((p) => p.node).filter((n): n is string => n !== null)), [located]);
  const targetKey = key ?? (typeof parsed.definition?.key === "string" ? parsed.definition.key : "");
  const valid = result?.valid === true && parsed.syntax.length === 0;
  const checking = result === null && parsed.syntax.length === 0;

  if (journey.error) return <Failure error={journey.error} />;
  if (source === null) return <p className="loading">Loading…</p>;

  const saveDraft = async () => {
    const saved = await call<{ problems: ProblemOut[] }>(`/api/journeys/${q(targetKey)}/draft`, { method: "PUT", yaml: source });
    setMessage(saved.problems.length ? `Draft saved, with ${saved.problems.length} problem(s) to fix before publishing.` : "Draft saved.");
  };
  const prepare = async () => {
    setDiff(null);
    setDiff(await call<VersionDiff>(`/api/journeys/${q(targetKey)}/diff`, { yaml: source }));
  };
  const publish = async () => {
    const published = await call<PublishResult>(`/api/journeys/${q(targetKey)}/publish`, { yaml: source });
    navigate(`/journeys/${published.key}`, { state: { published: published.version } });
  };

  return (
    <section>
      <div className="heading">
        <h1>{key ? `Edit ${key}` : "New journey"}</h1>
        <span role="status" className={valid ? "ok" : "error"}>
          {checking ? "Checking…" : valid ? "Valid" : `${located.length} problem(s)`}
        </span>
      </div>
      <div className="editor-layout">
        <div className="editor-pane">
          <CodeMirror
            value={source}
            height="560px"
            extensions={[yamlLanguage(), lintGutter()]}
            onChange={(value) => {
              setSource(value);
              setResult(null);
            }}
            onCreateEditor={(editor) => {
              view.current = editor;
            }}
            aria-label="Journey definition (YAML)"
            basicSetup={{ foldGutter: false }}
          />
          <ul className="problems" aria-label="Problems">
            {located.map((p, i) => (
              <li key={`e${i}`} className="error" data-line={p.line}>
                Line {p.line}: <code>{p.path}</code> {p.message}
              </li>
            ))}
            {warnings.map((p, i) => (
              <li key={`w${i}`} className="warning" data-line={p.line}>
                Line {p.line} (warning): <code>{p.path}</code> {p.message}
              </li>
            ))}
          </ul>
          {session.role === "admin" && (
            <div className="actions">
              <button type="button" onClick={() => saveDraft().catch((e: unknown) => setMessage(String(e)))} disabled={!targetKey}>
                Save draft
              </button>
              <span onClickCapture={() => valid && prepare().catch((e: unknown) => setMessage(String(e)))}>
                <ConfirmButton label="Publish…" title={`Publish ${targetKey}?`} confirm="Publish" disabled={!valid} onConfirm={publish}>
                  {diff ? (
                    <>
                      <p>
                        v{diff.from_version} → v{diff.to_version}: {diff.changes.length} change(s)
                      </p>
                      <pre className="diff">{diff.unified || "No changes: publishing keeps the current version."}</pre>
                    </>
                  ) : (
                    <p>Comparing with the live version…</p>
                  )}
                </ConfirmButton>
              </span>
              {!valid && !checking && <span className="error">Publishing is refused until the problems are fixed.</span>}
            </div>
          )}
          {message && <p role="status">{message}</p>}
        </div>
        <div className="preview-pane">
          <h2>Preview</h2>
          <JourneyGraph definition={parsed.definition} problems={problemNodes} height={600} />
        </div>
      </div>
    </section>
  );
}
