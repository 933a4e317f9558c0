import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { call } from "./api";

export function Failure({ error }: { error: string | null }) {
  return error ? (
    <p role="alert" className="error">
      {error}
    </p>
  ) : null;
}

/** A button that asks first, in a modal dialog (focus stays inside it; Escape cancels). */
export function ConfirmButton(props: { label: string; title: string; children?: ReactNode; confirm: string; onConfirm: () => Promise<void> | void; danger?: boolean; disabled?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      dialog.current?.close();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className={props.danger ? "danger" : undefined} disabled={props.disabled} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={dialog} aria-label={props.title}>
        <h2>{props.title}</h2>
        {props.children}
        <Failure error={error} />
        <div className="actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="button" className={props.danger ? "danger" : "primary"} disabled={busy} onClick={go}>
            {props.confirm}
          </button>
        </div>
      </dialog>
    </>
  );
}

export function KeyValues({ values, label }: { values: Record<string, unknown>; label: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p className="muted">none</p>;
  return (
    <table className="kv" aria-label={label}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{typeof value === "string" ? value : JSON.stringify(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A "Preview for profile" form: POSTs `{profile}` to `path` and shows `children(answer)`, or the failure. */
export function ProfilePreview<T>({ path, children }: { path: string; children: (preview: T) => ReactNode }) {
  const [profile, setProfile] = useState("");
  const [preview, setPreview] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const render = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      setPreview(await call<T>(path, { json: { profile } }));
    } catch (failure) {
      setPreview(null);
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  return (
    <>
      <form onSubmit={render} className="filters">
        <label>
          Preview for profile <input value={profile} onChange={(e) => setProfile(e.target.value)} required placeholder="profile, user or anonymous id" />
        </label>
        <button type="submit">Preview</button>
      </form>
      <Failure error={error} />
      {preview !== null && children(preview)}
    </>
  );
}
