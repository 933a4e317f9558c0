// The validator names each problem by a path (`nodes.check.cases[0].next`); the editor shows it at the
// line of the YAML source that path points to, and the graph preview highlights the node it concerns.

import { isCollection, isNode, LineCounter, parseDocument } from "yaml";
import type { ProblemOut } from "../types";

export interface Located {
  from: number; // character offsets into the source
  to: number;
  line: number; // 1-based
  message: string;
  path: string;
  node: string | null; // the journey node the problem is about, if any
}

export function parsePath(path: string): (string | number)[] {
  if (path === "(document)") return [];
  const parts: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    parts.push(match[2] !== undefined ? Number(match[2]) : (match[1] as string));
  }
  return parts;
}

export function nodeOf(path: string): string | null {
  const parts = parsePath(path);
  return parts[0] === "nodes" && typeof parts[1] === "string" ? parts[1] : null;
}

/** Each problem at the deepest part of its path the source has (a missing field: its parent). */
export function locate(source: string, problems: ProblemOut[]): Located[] {
  const lines = new LineCounter();
  const document = parseDocument(source, { lineCounter: lines });
  return problems.map((problem) => {
    const parts = parsePath(problem.path);
    let range: [number, number] = [0, Math.min(source.indexOf("\n") >>> 0, source.length)];
    for (let depth = parts.length; depth > 0; depth--) {
      const prefix = parts.slice(0, depth);
      const found = document.getIn(prefix, true);
      if (isNode(found) && found.range) {
        range = [found.range[0], found.range[1]];
        // A mapping's range runs to its last line; a key-level problem belongs on the key's line.
        if (isCollection(found)) range = keyRange(document, prefix) ?? range;
        break;
      }
    }
    const from = range[0];
    const to = Math.max(from, Math.min(range[1], lineEnd(source, from)));
    return { from, to, line: lines.linePos(from).line, message: problem.message, path: problem.path, node: nodeOf(problem.path) };
  });
}

function keyRange(document: ReturnType<typeof parseDocument>, path: (string | number)[]): [number, number] | null {
  const parent = path.length > 1 ? document.getIn(path.slice(0, -1), true) : document.contents;
  if (!isCollection(parent)) return null;
  for (const item of parent.items) {
    const pair = item as { key?: unknown };
    if (isNode(pair.key) && pair.key.range && String((pair.key as { value?: unknown }).value) === String(path[path.length - 1])) {
      return [pair.key.range[0], pair.key.range[1]];
    }
  }
  return null;
}

function lineEnd(source: string, from: number): number {
  const end = source.indexOf("\n", from);
  return end === -1 ? source.length : end;
}
