// Turns the inventory and the user's selection into the jobs of a sweep: one job per
// host x scenario the host runs, grouped by host (a host runs one job at a time).
import type { HostSpec, Inventory } from '../inventory/types.js';

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

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

function termMatches(term: string, host: HostSpec): boolean {
  if (term.startsWith('role:')) {
    const role = globToRegExp(term.slice(5));
    return host.roles.some((r) => role.test(r));
  }
  const pattern = globToRegExp(term);
  return pattern.test(host.name) || host.groups.some((group) => pattern.test(group));
}

export function jobIdFor(hostName: string, scenario: string): string {
  return `${hostName}--${scenario}`;
}

export function planSweep(inventory: Inventory, selection: Selection): SweepPlan {
  const terms = selection.limit.flatMap((entry) => entry.split(',')).map((t) => t.trim()).filter(Boolean);
  const excluded = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  const included = terms.filter((t) => !t.startsWith('!'));
  const unmatched = [...included, ...excluded].filter((term) => !inventory.hosts.some((host) => termMatches(term, host)));
  const hosts: HostPlan[] = [];
  for (const host of inventory.hosts) {
    if (included.length > 0 && !included.some((term) => termMatches(term, host))) continue;
    if (excluded.some((term) => termMatches(term, host))) continue;
    const jobs = host.scenarios
      .filter((request) => selection.scenarios.length === 0 || selection.scenarios.includes(request.name))
      .map((request) => ({ jobId: jobIdFor(host.name, request.name), host, scenario: request.name, params: request.params }));
    if (jobs.length > 0) hosts.push({ host, jobs });
  }
  return { hosts, jobs: hosts.reduce((n, h) => n + h.jobs.length, 0), unmatched };
}
