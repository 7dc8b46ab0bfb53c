// The orchestrator's own version, recorded in every manifest.
import { readFileSync } from 'node:fs';
import { packagePath } from './package-root.js';

const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };

export const ORCHESTRATOR = { version: pkg.version, node: process.version } as const;
