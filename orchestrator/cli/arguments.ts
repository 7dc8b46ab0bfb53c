// Argument handling every command shares: the inventory (validated, or exit 2 with every
// problem and nothing contacted) and whole-number options.
import { CommanderError } from 'commander';
import { loadInventory } from '../inventory/load.js';
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/types.js';
import { scenarioHostChecks, scenarioParamSchemas } from '../scenarios/registry.js';
import { EXIT } from './exit-codes.js';

/** Load and validate the inventory; on problems print them and exit 2 (nothing contacted). */
export async function loadInventoryOrExit(file: string): Promise<Inventory> {
  try {
    return await loadInventory(file, { scenarios: scenarioParamSchemas(), hostChecks: scenarioHostChecks() });
  } catch (error) {
    if (error instanceof InventoryError) {
      process.stderr.write(`${error.message}\n${error.issues.length} problem(s) in the inventory; nothing was contacted.\n`);
      process.exit(EXIT.usage);
    }
    throw error;
  }
}

export function wholeNumberOption(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new CommanderError(EXIT.usage, 'orchestrate.number', `${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

