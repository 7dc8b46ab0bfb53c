// Maps a path of keys and list indexes (as in zod issue paths) back to the YAML node it names,
// and that node to a 1-based line and column. Aliases are followed to their anchors (resolved
// once by the parse). Each mapping's keys are indexed the first time a path goes through it,
// and lookups through merge keys are remembered, so a path costs its length, not the size of
// the mappings it crosses (one lookup per host of a 20,000-host mapping used to scan it all).

import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import type { InventoryIssue } from './errors.js';
import type { YamlSource } from './parse-yaml.js';
import type { SourcePosition } from './types.js';

export type DocPath = readonly (string | number)[];

/** Which node of a mapping entry to point at. */
export type Anchor = 'key' | 'value';

interface Located {
  /** The mapping entry of the last path segment that was found, if it was a mapping key. */
  pair?: Pair;
  node?: Node;
  /** How many path segments were found. */
  depth: number;
}

function locate(source: YamlSource, path: DocPath): Located {
  let node = resolveAlias(source, source.doc.contents ?? undefined);
  let pair: Pair | undefined;
  let depth = 0;
  for (const segment of path) {
    if (isMap(node)) {
      const found = findPair(source, node, String(segment), 0);
      if (!found) break;
      pair = found;
      node = resolveAlias(source, (found.value as Node | null) ?? undefined);
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      pair = undefined;
      node = resolveAlias(source, item);
    } else {
      break;
    }
    depth += 1;
  }
  return { pair, node, depth };
}

/** A mapping's own entries by key (the last of equal keys) and its merge-key entries. */
interface MapIndex {
  own: Map<string, Pair>;
  merges: Pair[];
  /** Lookups that went through the merges, remembered (a merge chain is followed once per key). */
  merged: Map<string, Pair | undefined>;
}

const mapIndexes = new WeakMap<YAMLMap, MapIndex>();

function indexOf(map: YAMLMap): MapIndex {
  let index = mapIndexes.get(map);
  if (!index) {
    index = { own: new Map(), merges: [], merged: new Map() };
    for (const item of map.items) {
      if (isMergeKey(item.key)) {
        index.merges.push(item);
        continue;
      }
      const text = keyText(item.key);
      if (text !== undefined) index.own.set(text, item);
    }
    mapIndexes.set(map, index);
  }
  return index;
}

/**
 * The entry for `key`: the last of several equal keys wins, as it does when the document is
 * read; keys brought in by a merge key (`<<: *base`) count when the map does not set them.
 */
function findPair(source: YamlSource, map: YAMLMap, key: string, depth: number): Pair | undefined {
  const index = indexOf(map);
  const own = index.own.get(key);
  if (own || depth > 20 || index.merges.length === 0) return own;
  if (index.merged.has(key)) return index.merged.get(key);
  let found: Pair | undefined;
  search: for (const item of index.merges) {
    const value = resolveAlias(source, (item.value as Node | null) ?? undefined);
    const sources = isSeq(value) ? value.items.map((entry) => resolveAlias(source, entry as Node)) : [value];
    for (const merged of sources) {
      found = isMap(merged) ? findPair(source, merged, key, depth + 1) : undefined;
      if (found) break search;
    }
  }
  index.merged.set(key, found);
  return found;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (typeof key.value === 'symbol' || (key.source === '<<' && key.type === 'PLAIN'));
}

function resolveAlias(source: YamlSource, node: Node | undefined): Node | undefined {
  let current = node;
  for (let hops = 0; isAlias(current) && hops < 100; hops++) {
    // The parse resolved every alias once; yaml's own resolve() walks the whole document.
    current = source.aliasTargets ? source.aliasTargets.get(current) : (current.resolve(source.doc) as Node | undefined);
  }
  return current;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function isEmptyValue(node: Node | undefined): boolean {
  return node === undefined || (isScalar(node) && node.value === null && node.source === '');
}

function offsetOf(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

/**
 * Where the node at `path` was written: for 'key', the entry's key (when the last segment is
 * a mapping key); for 'value', the value, or the key when the value is empty. A path that goes
 * further than the document points at the deepest node that exists.
 */
export function positionOf(source: YamlSource, path: DocPath, anchor: Anchor): SourcePosition {
  const { pair, node } = locate(source, path);
  let offset: number | undefined;
  if (anchor === 'key' && pair) offset = offsetOf(pair.key);
  if (offset === undefined && !isEmptyValue(node)) offset = offsetOf(node);
  if (offset === undefined && pair) offset = offsetOf(pair.key);
  if (offset === undefined) offset = offsetOf(node) ?? 0;
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, column: col };
}

const sharedPositions = new WeakMap<DocPath, { key?: SourcePosition; value?: SourcePosition }>();

/**
 * positionOf for a path array that many hosts share (a value written in defaults or a group's
 * vars, layering.ts): computed once per path array. The position returned is shared too.
 */
export function sharedPositionOf(source: YamlSource, path: DocPath, anchor: Anchor): SourcePosition {
  let known = sharedPositions.get(path);
  if (!known) sharedPositions.set(path, (known = {}));
  return (known[anchor] ??= positionOf(source, path, anchor));
}

export function issueAt(
  source: YamlSource,
  path: DocPath,
  anchor: Anchor,
  message: string,
  expected?: string,
): InventoryIssue {
  const { file, line, column } = positionOf(source, path, anchor);
  return expected === undefined ? { file, line, column, message } : { file, line, column, message, expected };
}

/** A readable form of a path for messages: hosts.mm1.roles[1] */
export function pathLabel(path: DocPath): string {
  let label = '';
  for (const segment of path) {
    label += typeof segment === 'number' ? `[${segment}]` : label === '' ? segment : `.${segment}`;
  }
  return label;
}
