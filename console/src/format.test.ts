import { describe, expect, it } from "vitest";
import { barSpan, count, interval, lift, percent, pIs, pValue } from "./format";

describe("report formatting", () => {
  it("shows rates as percentages and missing figures as a dash", () => {
    expect(percent(0.1234)).toBe("12.3%");
    expect(percent(null)).toBe("–");
    expect(count(12345)).toBe("12,345");
  });

  it("signs lifts and names their scale", () => {
    expect(lift(0.052, "relative")).toBe("+5.2%");
    expect(lift(-0.012, "absolute")).toBe("−1.2 pp");
    expect(lift(0, "relative")).toBe("0.0%");
  });

  it("shows intervals as a range", () => {
    expect(interval({ low: -0.01, high: 0.05 }, (v) => lift(v, "relative"))).toBe("−1.0% to +5.0%");
    expect(interval(null, percent)).toBe("–");
  });

  it("gives p-values the precision that matters", () => {
    expect(pValue(0.0004)).toBe("< 0.001");
    expect(pValue(0.0042)).toBe("0.004");
    expect(pValue(0.31)).toBe("0.31");
    expect(pIs(0.0004)).toBe("p < 0.001");
    expect(pIs(0.04)).toBe("p = 0.04");
  });

  it("places an interval bar inside its axis", () => {
    const span = barSpan({ low: 0.1, high: 0.3 }, 0, 0.4);
    expect(span.left).toBeCloseTo(25);
    expect(span.width).toBeCloseTo(50);
    expect(barSpan({ low: -1, high: 2 }, 0, 1)).toEqual({ left: 0, width: 100 });
  });
});
