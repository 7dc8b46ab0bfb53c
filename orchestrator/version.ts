// The orchestrator's own version, recorded in every manifest.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const ORCHESTRATOR = { version: pkg.version, node: process.version } as const;
