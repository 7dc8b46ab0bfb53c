// The contract every benchmark section implements: run.ts imports a list of these, runs the ones
// selected by name (`npm run bench -- NAME...`, all when none is named), prints each section's
// table and writes its JSON to test/.output/bench/<name>.json.

export interface SectionResult {
  /** Markdown, printed as is. */
  table: string;
  /** Everything measured (raw runs included), written as JSON. */
  json: unknown;
}

export interface BenchSection {
  /** Short, file-name safe; selects the section on the command line. */
  name: string;
  /** One line for `npm run bench -- --list`. */
  description?: string;
  run(): Promise<SectionResult>;
}
