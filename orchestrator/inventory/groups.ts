// The group hierarchy: which groups contain a host (directly or through nested children),
// the order their vars apply in, and cycles among children. Every answer is computed once
// per group (or host) from indexes built with the graph, so 20,000 hosts in hundreds of
// groups cost no more than reading them.

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
  /** The groups that list each host directly, in file order. */
  groupsListing: Map<string, string[]>;
  /** Memo: each group with every group above it, sorted. */
  ancestors: Map<string, string[]>;
  /** Memo: each group's depth. */
  depths: Map<string, number>;
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
  const parentSets = new Map<string, Set<string>>(names.map((name) => [name, new Set()]));
  const hosts = new Map<string, string[]>();
  const groupsListing = new Map<string, string[]>();
  for (const name of names) {
    const entry = groups[name];
    const refs = (entry?.children ?? [])
      .map((child, index) => ({ name: child, index }))
      .filter((ref) => defined.has(ref.name));
    children.set(name, refs);
    for (const ref of refs) parentSets.get(ref.name)!.add(name);
    const members = [...new Set(entry?.hosts ?? [])];
    hosts.set(name, members);
    for (const host of members) {
      const listing = groupsListing.get(host);
      if (listing) listing.push(name);
      else groupsListing.set(host, [name]);
    }
  }
  const parents = new Map([...parentSets].map(([name, set]) => [name, [...set]]));
  return { names, children, parents, hosts, groupsListing, ancestors: new Map(), depths: new Map() };
}

/** The group and every group above it (through parents), sorted; computed once per group. */
function ancestorsOf(graph: GroupGraph, group: string): string[] {
  const known = graph.ancestors.get(group);
  if (known) return known;
  // Iterative, so that a deep nesting cannot overflow the stack; a cycle is simply closed.
  const found = new Set<string>([group]);
  const pending = [group];
  while (pending.length > 0) {
    const name = pending.pop()!;
    for (const parent of graph.parents.get(name) ?? []) {
      if (found.has(parent)) continue;
      const memo = graph.ancestors.get(parent);
      if (memo) for (const above of memo) found.add(above);
      else pending.push(parent);
      found.add(parent);
    }
  }
  const sorted = [...found].sort();
  graph.ancestors.set(group, sorted);
  return sorted;
}

/** Every group containing the host directly or through nesting, sorted by name. */
export function groupsOfHost(graph: GroupGraph, host: string): string[] {
  const listing = graph.groupsListing.get(host) ?? [];
  if (listing.length === 1) return [...ancestorsOf(graph, listing[0]!)];
  const found = new Set<string>();
  for (const group of listing) for (const name of ancestorsOf(graph, group)) found.add(name);
  return [...found].sort();
}

/**
 * Length of the longest chain of parents above a group (0 for a top-level group), computed
 * once per group. In a cycle (an error, reported elsewhere) the edge that closes it is left out.
 */
export function groupDepth(graph: GroupGraph, group: string): number {
  const known = graph.depths.get(group);
  if (known !== undefined) return known;
  const onPath = new Set<string>();
  // Iterative depth-first walk up the parents: a frame is a group and the parents left to see.
  const stack: { name: string; parents: string[]; next: number; depth: number }[] = [];
  const push = (name: string) => {
    onPath.add(name);
    stack.push({ name, parents: graph.parents.get(name) ?? [], next: 0, depth: 0 });
  };
  push(group);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.parents.length) {
      const parent = frame.parents[frame.next++]!;
      if (onPath.has(parent)) continue;
      const memo = graph.depths.get(parent);
      if (memo !== undefined) frame.depth = Math.max(frame.depth, 1 + memo);
      else push(parent);
      continue;
    }
    stack.pop();
    onPath.delete(frame.name);
    graph.depths.set(frame.name, frame.depth);
    const below = stack[stack.length - 1];
    if (below) below.depth = Math.max(below.depth, 1 + frame.depth);
  }
  return graph.depths.get(group)!;
}

/** The order group vars apply in: parents before children, then by name. */
export function layerOrder(graph: GroupGraph, groups: readonly string[]): string[] {
  if (groups.length <= 1) return [...groups];
  const depth = new Map(groups.map((group) => [group, groupDepth(graph, group)]));
  return [...groups].sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** Each cycle among children, found once, at the children entry that closes it. */
export function findCycles(graph: GroupGraph): GroupCycle[] {
  const cycles: GroupCycle[] = [];
  const state = new Map<string, 'active' | 'done'>();
  // Iterative depth-first walk (a deep nesting cannot overflow the stack); `path` is the
  // chain of active groups, `position` where each one is in it.
  const path: string[] = [];
  const position = new Map<string, number>();
  const frames: { group: string; next: number }[] = [];
  const enter = (group: string) => {
    state.set(group, 'active');
    position.set(group, path.length);
    path.push(group);
    frames.push({ group, next: 0 });
  };
  for (const start of graph.names) {
    if (state.has(start)) continue;
    enter(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const children = graph.children.get(frame.group) ?? [];
      if (frame.next < children.length) {
        const child = children[frame.next++]!;
        const childState = state.get(child.name);
        if (childState === 'active') {
          cycles.push({ groups: [...path.slice(position.get(child.name)), child.name], from: frame.group, index: child.index });
        } else if (childState === undefined) {
          enter(child.name);
        }
        continue;
      }
      frames.pop();
      path.pop();
      position.delete(frame.group);
      state.set(frame.group, 'done');
    }
  }
  return cycles;
}
