// Argument handling every command shares: the inventory (validated, or exit 2 with every
// problem and nothing contacted) and whole-number options. Cheap to import (every command
// module does, at start): the inventory loader and the scenarios are imported when an
// inventory is loaded.
import { InvalidArgumentError } from 'commander';
import type { Inventory } from '../inventory/types.js';
import { EXIT } from './exit-codes.js';

/**
 * Load and validate the inventory; on problems print them and exit 2 (nothing contacted).
 * A SIGINT/SIGTERM while it loads (a large one takes a moment; loading hands the event loop a
 * turn every few ms) exits 130 at once; the command's own handlers take over after.
 */
export async function loadInventoryOrExit(file: string): Promise<Inventory> {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopped while loading the inventory; nothing was contacted.\n`);
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const [{ loadInventory }, { InventoryError }, { scenarioHostChecks, scenarioParamSchemas }] = await Promise.all([
      import('../inventory/load.js'),
      import('../inventory/errors.js'),
      import('../scenarios/registry.js'),
    ]);
    try {
      return await loadInventory(file, { scenarios: scenarioParamSchemas(), hostChecks: scenarioHostChecks() });
    } catch (error) {
      if (error instanceof InventoryError) {
        process.stderr.write(`${error.message}\n${error.issues.length} problem(s) in the inventory; nothing was contacted.\n`);
        process.exit(EXIT.usage);
      }
      throw error;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function wholeNumberOption(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

