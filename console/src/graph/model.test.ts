import { describe, expect, it } from "vitest";
import { describeCondition, journeyGraph } from "./model";

const definition = {
  start: "wait_purchase",
  nodes: {
    wait_purchase: { type: "wait_for_event", event: "order_completed", timeout: "1h", on_event: "done", on_timeout: "check" },
    check: {
      type: "branch",
      cases: [{ when: { all: [{ signal: "cart_value", op: "gte", value: 150 }, { signal: "engagement_score", op: "gte", value: 60 }] }, next: "offer" }],
      default: "done",
    },
    offer: { type: "split", variants: [{ name: "plain", weight: 50, next: "done" }, { name: "discount", weight: 50, next: "mail" }] },
    mail: { type: "send", channel: "email", template: "cart_discount", next: "nowhere" },
    done: { type: "exit" },
  },
};

describe("journeyGraph", () => {
  const graph = journeyGraph(definition);

  it("has every node with its type, settings and the start marked", () => {
    expect(graph.nodes.map((n) => [n.id, n.type, n.start])).toEqual([
      ["wait_purchase", "wait_for_event", true],
      ["check", "branch", false],
      ["offer", "split", false],
      ["mail", "send", false],
      ["done", "exit", false],
    ]);
    expect(graph.nodes.find((n) => n.id === "mail")?.settings).toEqual(["email: cart_discount"]);
    expect(graph.nodes.find((n) => n.id === "offer")?.settings).toEqual(["plain 50% · discount 50%"]);
  });

  it("labels edges by event, timeout, case and variant", () => {
    const labels = Object.fromEntries(graph.edges.map((e) => [e.id, `${e.source}→${e.target} ${e.label}`]));
    expect(labels["wait_purchase.on_event"]).toBe("wait_purchase→done on order_completed");
    expect(labels["wait_purchase.on_timeout"]).toBe("wait_purchase→check timeout 1h");
    expect(labels["check.cases[0]"]).toBe("check→offer case 1: cart_value ≥ 150 and engagement_score ≥ 60");
    expect(labels["check.default"]).toBe("check→done default");
    expect(labels["offer.variants[1]"]).toBe("offer→mail discount (50%)");
  });

  it("marks an edge to a node that does not exist as dangling", () => {
    expect(graph.edges.filter((e) => e.dangling).map((e) => e.id)).toEqual(["mail.next"]);
  });

  it("draws what it can of a half-typed definition", () => {
    expect(journeyGraph({ nodes: { a: null, b: { type: "send" } } }).nodes.map((n) => n.type)).toEqual(["?", "send"]);
    expect(journeyGraph(null)).toEqual({ nodes: [], edges: [] });
  });
});

describe("describeCondition", () => {
  it("reads nested conditions", () => {
    expect(describeCondition({ any: [{ trait: "plan", op: "eq", value: "pro" }, { not: { signal: "orders_count", op: "gt", value: 0 } }] })).toBe(
      "plan = pro or not (orders_count > 0)",
    );
  });
});
