// The journey drawn by React Flow, laid out by dagre: each node with its type, key settings and (on a
// live journey) how many entered it, wait there now and ended there; problem nodes highlighted.

import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo } from "react";
import { count } from "../format";
import type { Definition, FunnelStep } from "../types";
import { layout } from "./layout";
import { journeyGraph, type GraphNode } from "./model";

interface NodeData extends Record<string, unknown> {
  node: GraphNode;
  counts: FunnelStep | undefined;
  problem: boolean;
  dangling: string[];
  showCounts: boolean;
}

function JourneyNode({ data }: NodeProps<Node<NodeData>>) {
  const { node, counts, problem, dangling, showCounts } = data;
  const ended = counts ? Object.values(counts.ended).reduce((a, b) => a + b, 0) : 0;
  return (
    <div className={`journey-node type-${node.type}${problem ? " problem" : ""}`} data-node={node.id} data-problem={problem || undefined}>
      <Handle type="target" position={Position.Top} />
      <div className="node-title">
        <strong>{node.id}</strong>
        <span className="badge">{node.type}</span>
        {node.start && <span className="badge start">start</span>}
      </div>
      {node.settings.map((line) => (
        <div key={line} className="node-setting">
          {line}
        </div>
      ))}
      {dangling.map((target) => (
        <div key={target} className="node-setting dangling">
          → {target} (no such node)
        </div>
      ))}
      {showCounts && (
        <div className="node-counts" aria-label={`${node.id} counts`}>
          <span data-count="entered">entered {count(counts?.entered ?? 0)}</span>
          <span data-count="waiting">waiting {count(counts?.waiting ?? 0)}</span>
          <span data-count="ended">ended {count(ended)}</span>
        </div>
      )}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
}

const nodeTypes = { journey: JourneyNode };

export function JourneyGraph(props: { definition: Definition | null | undefined; counts?: FunnelStep[]; problems?: Set<string>; height?: number }) {
  const { definition, counts, problems } = props;
  const { nodes, edges } = useMemo(() => {
    const graph = journeyGraph(definition);
    const positions = layout(graph);
    const byNode = new Map((counts ?? []).map((step) => [step.node, step]));
    const nodes: Node<NodeData>[] = graph.nodes.map((node) => ({
      id: node.id,
      type: "journey",
      position: positions.get(node.id) ?? { x: 0, y: 0 },
      data: {
        node,
        counts: byNode.get(node.id),
        problem: problems?.has(node.id) ?? false,
        dangling: graph.edges.filter((e) => e.source === node.id && e.dangling).map((e) => e.target),
        showCounts: counts !== undefined,
      },
    }));
    const edges: Edge[] = graph.edges
      .filter((edge) => !edge.dangling)
      .map((edge) => ({ id: edge.id, source: edge.source, target: edge.target, label: edge.label || undefined, labelBgPadding: [4, 2] }));
    return { nodes, edges };
  }, [definition, counts, problems]);

  return (
    // Tall enough that a typical journey reads at close to full size; React Flow pans and zooms the rest.
    <div className="graph" style={{ height: props.height ?? Math.min(1200, 200 + nodes.length * 60) }} role="figure" aria-label="journey graph">
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} fitView nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }} minZoom={0.2}>
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
