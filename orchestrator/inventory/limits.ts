// Limits on what an inventory file may be, so that loading one never takes unbounded time or
// memory: a size cap checked before the file is read whole, a cap on YAML nodes checked while
// it is parsed (a small file can hold millions of nodes, and each costs the YAML parser about
// a kilobyte and a microsecond), and a cap on what aliases and merge keys may expand it to (a
// "billion laughs" file is tiny and expands without end). Documented in README.md, "Inventory".

export interface InventoryLimits {
  /** The inventory file itself, in bytes. */
  maxFileBytes: number;
  /** YAML nodes in the file as written: keys, values, list items, aliases (counted as the parser meets them). */
  maxNodes: number;
  /** Nodes the document holds once every alias and merge key is expanded. */
  maxExpandedNodes: number;
  /** Hosts in one host's jump chain, its jump hosts' own chains included. */
  maxJumpHops: number;
  /** Characters of a value quoted in a message; longer ones are cut. */
  maxQuotedChars: number;
}

export const INVENTORY_LIMITS: Readonly<InventoryLimits> = {
  maxFileBytes: 8 * 1024 * 1024,
  maxNodes: 1_000_000,
  maxExpandedNodes: 2_000_000,
  maxJumpHops: 16,
  maxQuotedChars: 120,
};

/** 1000000 -> "1,000,000" */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
