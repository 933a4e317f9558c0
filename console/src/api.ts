// Every call the console makes goes through here: same-origin, the session cookie sent by the browser,
// and the CSRF header (read from the journeys_csrf cookie) on every change (api/auth.py).

export interface Problem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problems: Problem[];

  constructor(status: number, message: string, problems: Problem[] = []) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

function csrf(): string | undefined {
  const found = document.cookie.split("; ").find((part) => part.startsWith("journeys_csrf="));
  return found?.slice("journeys_csrf=".length);
}

export interface Send {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  json?: unknown;
  yaml?: string;
}

export async function call<T>(path: string, send: Send = {}): Promise<T> {
  const method = send.method ?? (send.json !== undefined || send.yaml !== undefined ? "POST" : "GET");
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: string | undefined;
  if (send.yaml !== undefined) {
    headers["Content-Type"] = "application/yaml";
    body = send.yaml;
  } else if (send.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(send.json);
  }
  const token = csrf();
  if (method !== "GET" && token) headers["X-CSRF-Token"] = token;
  const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed ?? {}) as { message?: string; problems?: Problem[] };
    throw new ApiError(response.status, error.message ?? `${response.status} ${response.statusText}`, error.problems);
  }
  return parsed as T;
}

export const q = encodeURIComponent;
