// Turns the inventory and the user's selection into the jobs of a sweep: one job per
// host x scenario the host runs, grouped by host (a host runs one job at a time).
import type { HostSpec, Inventory } from '../inventory/types.js';
import { wildcardMatcher } from '../wildcard.js';

export interface Selection {
  /** Terms: a host name, a group name, or role:<role>; * and ? are wildcards. Empty = all. */
  limit: string[];
  /** Scenario names to run. Empty = every scenario the host names. */
  scenarios: string[];
}

export interface JobPlan {
  jobId: string;
  host: HostSpec;
  scenario: string;
  params: Record<string, unknown>;
}

export interface HostPlan {
  host: HostSpec;
  jobs: JobPlan[];
}

export interface SweepPlan {
  hosts: HostPlan[];
  jobs: number;
  /** Selection terms that matched nothing (probably a typo). */
  unmatched: string[];
}

/** A --limit term as a matcher: `*` any run of characters, `?` one, all else itself. */
const termMatcher = (term: string) => wildcardMatcher(term, '*?');

/** A term compiled once: does it select this host (by name or group, or by role for role:)? */
function termSelector(term: string): (host: HostSpec) => boolean {
  if (term.startsWith('role:')) {
    const role = termMatcher(term.slice(5));
    return (host) => host.roles.some((r) => role(r));
  }
  const matches = termMatcher(term);
  return (host) => matches(host.name) || host.groups.some((group) => matches(group));
}

export function jobIdFor(hostName: string, scenario: string): string {
  return `${hostName}--${scenario}`;
}

export function planSweep(inventory: Inventory, selection: Selection): SweepPlan {
  const terms = selection.limit.flatMap((entry) => entry.split(',')).map((t) => t.trim()).filter(Boolean);
  const excluded = terms.filter((t) => t.startsWith('!')).map((t) => ({ term: t.slice(1), selects: termSelector(t.slice(1)) }));
  const included = terms.filter((t) => !t.startsWith('!')).map((t) => ({ term: t, selects: termSelector(t) }));
  const unmatched = [...included, ...excluded].filter(({ selects }) => !inventory.hosts.some(selects)).map(({ term }) => term);
  const hosts: HostPlan[] = [];
  for (const host of inventory.hosts) {
    if (included.length > 0 && !included.some(({ selects }) => selects(host))) continue;
    if (excluded.some(({ selects }) => selects(host))) continue;
    const jobs = host.scenarios
      .filter((request) => selection.scenarios.length === 0 || selection.scenarios.includes(request.name))
      .map((request) => ({ jobId: jobIdFor(host.name, request.name), host, scenario: request.name, params: request.params }));
    if (jobs.length > 0) hosts.push({ host, jobs });
  }
  return { hosts, jobs: hosts.reduce((n, h) => n + h.jobs.length, 0), unmatched };
}
