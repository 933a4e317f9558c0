// A journey definition as a graph a person reads: each node with its type and key settings, each edge
// labelled with what takes it (a branch case, a split variant, an event or a timeout).

import type { Definition } from "../types";

export interface GraphNode {
  id: string;
  type: string;
  settings: string[];
  start: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label: string;
  dangling: boolean; // the target names no node
}

export interface JourneyGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

/** A condition in a few words: `cart_value ≥ 150 and engagement_score ≥ 60`. */
export function describeCondition(condition: unknown): string {
  if (!isRecord(condition)) return "?";
  for (const [key, joiner] of [["all", " and "], ["any", " or "]] as const) {
    const parts = condition[key];
    if (Array.isArray(parts)) return parts.map(describeCondition).join(joiner);
  }
  if ("not" in condition) return `not (${describeCondition(condition.not)})`;
  const subject = condition.signal ?? condition.trait ?? condition.field ?? condition.segment ?? "?";
  const ops: Record<string, string> = { gt: ">", gte: "≥", lt: "<", lte: "≤", eq: "=", ne: "≠" };
  const op = typeof condition.op === "string" ? (ops[condition.op] ?? condition.op) : "";
  const value = "value" in condition ? ` ${text(condition.value)}` : "";
  return `${text(subject)} ${op}${value}`.trim();
}

function settingsOf(node: Raw): string[] {
  switch (node.type) {
    case "wait":
      return [
        node.duration ? `for ${text(node.duration)}` : "",
        node.until_time ? `until ${text(node.until_time)}` : "",
        node.until_trait ? `until trait ${text(node.until_trait)}${node.offset ? ` ${text(node.offset)}` : ""}` : "",
      ].filter(Boolean);
    case "wait_for_event":
      return [`event ${text(node.event)}`, `timeout ${text(node.timeout)}`];
    case "send":
      return [`${text(node.channel ?? "stored")}: ${text(node.template)}`];
    case "webhook":
      return [`${text(node.method ?? "POST")} ${text(node.url)}`];
    case "update_profile":
      return Object.keys(isRecord(node.set) ? node.set : {}).map((key) => `set ${key}`);
    case "split": {
      const variants = Array.isArray(node.variants) ? node.variants.filter(isRecord) : [];
      return [variants.map((v) => `${text(v.name)} ${text(v.weight)}%`).join(" · ")];
    }
    case "branch":
      return [`${Array.isArray(node.cases) ? node.cases.length : 0} cases + default`];
    default:
      return [];
  }
}

function edgesOf(id: string, node: Raw): { key: string; target: unknown; label: string }[] {
  const out: { key: string; target: unknown; label: string }[] = [];
  if (node.type === "wait_for_event") {
    out.push({ key: "on_event", target: node.on_event, label: `on ${text(node.event)}` });
    out.push({ key: "on_timeout", target: node.on_timeout, label: `timeout ${text(node.timeout)}` });
  } else if (node.type === "branch") {
    (Array.isArray(node.cases) ? node.cases : []).forEach((item, index) => {
      if (isRecord(item)) {
        out.push({ key: `cases[${index}]`, target: item.next, label: `case ${index + 1}: ${describeCondition(item.when)}` });
      }
    });
    out.push({ key: "default", target: node.default, label: "default" });
  } else if (node.type === "split") {
    (Array.isArray(node.variants) ? node.variants : []).forEach((item, index) => {
      if (isRecord(item)) {
        out.push({ key: `variants[${index}]`, target: item.next, label: `${text(item.name)} (${text(item.weight)}%)` });
      }
    });
  } else if ("next" in node) {
    out.push({ key: "next", target: node.next, label: "" });
  }
  return out.filter((edge) => typeof edge.target === "string").map((edge) => ({ ...edge, key: `${id}.${edge.key}` }));
}

/** The graph of a definition, tolerant of a half-typed one (the editor draws it as you type). */
export function journeyGraph(definition: Definition | null | undefined): JourneyGraph {
  const nodesRaw = definition && isRecord(definition.nodes) ? definition.nodes : {};
  const ids = new Set(Object.keys(nodesRaw));
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  for (const [id, value] of Object.entries(nodesRaw)) {
    const node = isRecord(value) ? value : {};
    nodes.push({ id, type: typeof node.type === "string" ? node.type : "?", settings: settingsOf(node), start: definition?.start === id });
    for (const edge of edgesOf(id, node)) {
      const target = edge.target as string;
      edges.push({ id: edge.key, source: id, target, label: edge.label, dangling: !ids.has(target) });
    }
  }
  return { nodes, edges };
}
