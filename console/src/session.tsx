// Signing in: the admin (or an analyst) token is exchanged once for an httpOnly session cookie.

import { createContext, useContext, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, call } from "./api";

export interface Session {
  role: "admin" | "analyst";
  expires_at: string;
}

interface SessionState {
  session: Session;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionGate");
  return state;
}

export function SessionGate({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    call<Session>("/api/session").then(setSession, () => setSession(null));
  }, []);

  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = async () => {
    await call("/api/session", { method: "DELETE" });
    setSession(null);
  };
  return <SessionContext.Provider value={{ session, signOut }}>{children}</SessionContext.Provider>;
}

function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      onSignedIn(await call<Session>("/api/session", { json: { token } }));
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 403 ? "That token is not valid here." : String(failure));
    }
  };

  return (
    <main className="sign-in">
      <h1>journeys</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">Admin or analyst token</label>
        <input id="token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} required autoFocus />
        <button type="submit">Sign in</button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
