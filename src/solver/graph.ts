/*
 * The two graph algorithms of Rez's finalise step: a cycle check (a cyclic
 * resolve fails outright) and `_get_dependency_order`, which orders the
 * resolved packages dependencies-first while staying as close as possible to
 * the request order. Nodes are family names; `edges.get(a)` lists the families
 * a's variant requires.
 */

export interface FamilyGraph {
  /** Nodes in a fixed order (phase scope order). */
  nodes: readonly string[];
  edges: ReadonlyMap<string, readonly string[]>;
}

/** A cycle as a list of nodes (each requires the next, the last requires the first), or null. */
export function findCycle(g: FamilyGraph): string[] | null {
  const visited = new Set<string>();
  const parent = new Map<string, string | null>();
  let cycle: string[] | null = null;

  // iterative depth-first search, as pygraph's find_cycle (recursive) walks it
  for (const root of g.nodes) {
    if (visited.has(root)) continue;
    parent.set(root, null);
    const stack: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    visited.add(root);
    const onPath = new Set<string>([root]);
    while (stack.length && !cycle) {
      const top = stack[stack.length - 1]!;
      const out = g.edges.get(top.node) ?? [];
      if (top.next >= out.length) {
        onPath.delete(top.node);
        stack.pop();
        continue;
      }
      const each = out[top.next++]!;
      if (!visited.has(each)) {
        visited.add(each);
        parent.set(each, top.node);
        onPath.add(each);
        stack.push({ node: each, next: 0 });
      } else if (onPath.has(each)) {
        // path from `each` down to the current node
        const path: string[] = [];
        let n: string | null = top.node;
        while (n !== null && n !== each) {
          path.push(n);
          n = parent.get(n) ?? null;
        }
        path.push(each);
        cycle = path.reverse();
      }
    }
    if (cycle) return cycle;
  }
  return null;
}

/**
 * Rez `_get_dependency_order(g, node_list)`: start from the request's families
 * (then the rest alphabetically); while the head has a dependency later in the
 * list, move the first such dependency to the front; otherwise emit the head.
 * The graph must be acyclic.
 */
export function dependencyOrder(g: FamilyGraph, requestOrder: readonly string[]): string[] {
  const index = new Map<string, number>();
  g.nodes.forEach((n, i) => index.set(n, i));
  const reach = reachability(g, index);

  const inRequest = new Set(requestOrder);
  // Rez's list as node indices (-1: a requested name that is not a node);
  // `nodes[h..]` is the list, and moving an item to the front shifts the ones before it
  const names = [...requestOrder, ...g.nodes.filter((n) => !inRequest.has(n)).sort()];
  const nodes = names.map((n) => index.get(n) ?? -1);
  const ordered: string[] = [];
  const done = new Uint8Array(g.nodes.length);
  let h = 0;
  while (h < nodes.length) {
    const hi = nodes[h]!;
    if (hi < 0 || done[hi]) {
      h++;
      continue;
    }
    const deps = reach[hi]!;
    let moved = false;
    for (let i = h + 1; i < nodes.length; i++) {
      const ni = nodes[i]!;
      if (ni >= 0 && ni !== hi && (deps[ni >>> 5]! & (1 << (ni & 31))) !== 0) {
        for (let k = i; k > h; k--) nodes[k] = nodes[k - 1]!;
        nodes[h] = ni;
        moved = true;
        break;
      }
    }
    if (!moved) {
      ordered.push(g.nodes[hi]!);
      done[hi] = 1;
      h++;
    }
  }
  return ordered;
}

/** For each node, the nodes reachable from it (itself included), as bitsets over node indices. */
function reachability(g: FamilyGraph, index: ReadonlyMap<string, number>): Uint32Array[] {
  const n = g.nodes.length;
  const words = (n + 31) >>> 5;
  const reach = new Array<Uint32Array | undefined>(n);
  const succ = g.nodes.map((name) =>
    (g.edges.get(name) ?? []).map((t) => index.get(t)).filter((t): t is number => t !== undefined),
  );
  // iterative post-order DFS: a node's set is its successors' sets plus itself
  for (let root = 0; root < n; root++) {
    if (reach[root]) continue;
    const stack: Array<[number, number]> = [[root, 0]];
    const onStack = new Uint8Array(n);
    onStack[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [v, k] = top;
      const out = succ[v]!;
      if (k < out.length) {
        top[1]++;
        const t = out[k]!;
        if (!reach[t] && !onStack[t]) {
          onStack[t] = 1;
          stack.push([t, 0]);
        }
        continue;
      }
      const r = new Uint32Array(words);
      r[v >>> 5]! |= 1 << (v & 31);
      for (const t of out) {
        const rt = reach[t];
        if (rt) for (let w = 0; w < words; w++) r[w]! |= rt[w]!;
      }
      reach[v] = r;
      stack.pop();
    }
  }
  return reach as Uint32Array[];
}
