// The group hierarchy: which groups contain a host (directly or through nested children),
// the order their vars apply in, and cycles among children.

import type { GroupEntry } from './schema.js';

export interface ChildRef {
  name: string;
  /** Index in the group's children list as written. */
  index: number;
}

export interface GroupGraph {
  /** Group names in file order. */
  names: string[];
  /** Children that are defined groups. */
  children: Map<string, ChildRef[]>;
  parents: Map<string, string[]>;
  hosts: Map<string, string[]>;
}

export interface GroupCycle {
  /** The groups around the cycle, the first repeated at the end: a -> b -> a. */
  groups: string[];
  /** The children entry that closes the cycle. */
  from: string;
  index: number;
}

export function buildGroupGraph(groups: Readonly<Record<string, GroupEntry | null>>): GroupGraph {
  const names = Object.keys(groups);
  const defined = new Set(names);
  const children = new Map<string, ChildRef[]>();
  const parents = new Map<string, string[]>(names.map((name) => [name, []]));
  const hosts = new Map<string, string[]>();
  for (const name of names) {
    const entry = groups[name];
    const refs = (entry?.children ?? [])
      .map((child, index) => ({ name: child, index }))
      .filter((ref) => defined.has(ref.name));
    children.set(name, refs);
    for (const ref of refs) {
      const list = parents.get(ref.name)!;
      if (!list.includes(name)) list.push(name);
    }
    hosts.set(name, [...new Set(entry?.hosts ?? [])]);
  }
  return { names, children, parents, hosts };
}

/** Every group containing the host directly or through nesting, sorted by name. */
export function groupsOfHost(graph: GroupGraph, host: string): string[] {
  const found = new Set<string>();
  const visit = (group: string): void => {
    if (found.has(group)) return;
    found.add(group);
    for (const parent of graph.parents.get(group) ?? []) visit(parent);
  };
  for (const group of graph.names) if (graph.hosts.get(group)?.includes(host)) visit(group);
  return [...found].sort();
}

/** Length of the longest chain of parents above a group (0 for a top-level group). */
export function groupDepth(graph: GroupGraph, group: string): number {
  const walk = (name: string, seen: ReadonlySet<string>): number => {
    let depth = 0;
    for (const parent of graph.parents.get(name) ?? []) {
      if (seen.has(parent)) continue; // a cycle; reported elsewhere
      depth = Math.max(depth, 1 + walk(parent, new Set([...seen, parent])));
    }
    return depth;
  };
  return walk(group, new Set([group]));
}

/** The order group vars apply in: parents before children, then by name. */
export function layerOrder(graph: GroupGraph, groups: readonly string[]): string[] {
  const depth = new Map(groups.map((group) => [group, groupDepth(graph, group)]));
  return [...groups].sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** Each cycle among children, found once, at the children entry that closes it. */
export function findCycles(graph: GroupGraph): GroupCycle[] {
  const cycles: GroupCycle[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (group: string): void => {
    state.set(group, 'active');
    stack.push(group);
    for (const child of graph.children.get(group) ?? []) {
      const childState = state.get(child.name);
      if (childState === 'active') {
        const start = stack.indexOf(child.name);
        cycles.push({ groups: [...stack.slice(start), child.name], from: group, index: child.index });
      } else if (childState === undefined) {
        visit(child.name);
      }
    }
    stack.pop();
    state.set(group, 'done');
  };
  for (const group of graph.names) if (!state.has(group)) visit(group);
  return cycles;
}
