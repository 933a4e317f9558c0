// How figures read in the console: rates and lifts as percentages, intervals as ranges, p-values with
// the precision that matters, counts with thousands separators.

import type { Range } from "./types";

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : value.toLocaleString("en-US");
}

export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `${(value * 100).toFixed(digits)}%`;
}

/** A lift on the report's scale: relative lifts are signed percentages, absolute ones percentage points. */
export function lift(value: number | null | undefined, scale: "relative" | "absolute"): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const sign = value > 0 ? "+" : value < 0 ? "−" : "";
  const magnitude = (Math.abs(value) * 100).toFixed(1);
  return `${sign}${magnitude}${scale === "relative" ? "%" : " pp"}`;
}

export function interval(range: Range | null | undefined, show: (value: number) => string): string {
  return range ? `${show(range.low)} to ${show(range.high)}` : "–";
}

export function pValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (value < 0.001) return "< 0.001";
  return value.toFixed(value < 0.01 ? 3 : 2);
}

/** "p = 0.04", "p < 0.001". */
export function pIs(value: number | null | undefined): string {
  const shown = pValue(value);
  return shown.startsWith("<") ? `p ${shown}` : `p = ${shown}`;
}

export function money(value: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)} UTC`;
}

/** Where an interval sits on a bar spanning [min, max]: left and width in percent of the bar. */
export function barSpan(range: Range, min: number, max: number): { left: number; width: number } {
  const span = max - min || 1;
  const clamp = (value: number) => Math.min(100, Math.max(0, ((value - min) / span) * 100));
  const left = clamp(range.low);
  return { left, width: Math.max(0.5, clamp(range.high) - left) };
}
