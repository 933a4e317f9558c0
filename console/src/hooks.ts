import { useCallback, useEffect, useState } from "react";
import { call } from "./api";

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  reload: () => void;
}

/** GET `path` (again every `refreshMs` if given); `null` path waits. */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    if (path === null) return;
    let live = true;
    call<T>(path).then(
      (value) => {
        if (live) {
          setData(value);
          setError(null);
        }
      },
      (failure: unknown) => live && setError(failure instanceof Error ? failure.message : String(failure)),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);

  useEffect(() => {
    if (!refreshMs || path === null) return;
    const timer = window.setInterval(reload, refreshMs);
    return () => window.clearInterval(timer);
  }, [path, refreshMs, reload]);

  return { data, error, reload };
}
