import { describe, expect, it } from "vitest";
import { locate, nodeOf, parsePath } from "./errors";

const source = `key: demo
name: Demo
start: wait
nodes:
  wait:
    type: wait
    duration: 1h
    next: check
  check:
    type: branch
    cases:
      - when: {signal: cart_value, op: gte, value: 150}
        next: nowhere
    default: done
  done: {type: exit}
`;

describe("parsePath", () => {
  it("splits keys and indexes", () => {
    expect(parsePath("nodes.check.cases[0].next")).toEqual(["nodes", "check", "cases", 0, "next"]);
    expect(parsePath("(document)")).toEqual([]);
  });
  it("knows which node a path is about", () => {
    expect(nodeOf("nodes.check.cases[0].next")).toBe("check");
    expect(nodeOf("entry.event")).toBeNull();
  });
});

describe("locate", () => {
  it("puts a dangling edge on its own line, on the node it belongs to", () => {
    const [found] = locate(source, [{ path: "nodes.check.cases[0].next", message: "no node named 'nowhere'" }]);
    expect(found).toMatchObject({ line: 13, node: "check" });
    expect(source.slice(found?.from, found?.to)).toBe("nowhere");
  });

  it("puts a missing field on its parent's key line", () => {
    const [found] = locate(source, [{ path: "nodes.wait.until", message: "required field is missing" }]);
    expect(found?.line).toBe(5);
    expect(source.slice(found?.from, found?.to)).toBe("wait");
  });

  it("puts a document-level problem on line 1", () => {
    const [found] = locate(source, [{ path: "entry", message: "required field is missing" }]);
    expect(found?.line).toBe(1);
  });
});
