// What the fleet transport benchmark hands to each method, and what a method reports back.
import type { HelperBundle } from '../../../orchestrator/bundle/build-bundle.js';
import type { Lab, LabHost } from '../../lab/lab.js';

export interface FleetTarget {
  n: number;
  lab: Lab;
  hosts: LabHost[];
  bundle: HelperBundle;
  /** The bundle's .tar.gz on disk (what the CLI peers send). */
  bundleFile: string;
  /** One `address:port` a line, for parallel-ssh / parallel-scp. */
  hostsFile: string;
  /** Scratch directory of this lab (removed with it). */
  work: string;
}

export interface MethodRun {
  wallS: number;
  /** CPU seconds (user + system) on the orchestrating side; see cpuOf. */
  cpuS: number;
  cpuOf: string;
  detail?: Record<string, unknown>;
  /** Whole machine while run() ran (client and lab sshd side): CPU seconds from /proc/stat, PIDs allocated per host. Filled in by the section. */
  machine?: { cpuS: number; pidsPerHost: number; backgroundCores: number };
}

export interface Method {
  id: string;
  label: string;
  /** Diagnostic variants do not push a bundle (or not to bundleDir): no bundle check. */
  noBundleCheck?: boolean;
  /** Where the bundle's files are on a host after run(remoteDir), relative to the host's HOME. */
  bundleDir(remoteDir: string, bundle: HelperBundle): string;
  run(target: FleetTarget, remoteDir: string): Promise<MethodRun>;
  /** Checks beyond the bundle's files (e.g. the phase's exit status on each host); throws when the work was not done. */
  verify?(target: FleetTarget, remoteDir: string, run: MethodRun): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The CLI benchmark (section "cli", fleet-cli.ts): each method gathers the same system facts from
// every host through its own command line, and saves them per host under a run directory.

export interface FactsTarget {
  n: number;
  lab: Lab;
  hosts: LabHost[];
  /** One `address:port` a line, for parallel-ssh. */
  hostsFile: string;
  /** Scratch directory of this lab (removed with it). */
  work: string;
}

export interface FactsRun {
  wallS: number;
  /** user + system of the whole client process tree (see cpuOf). */
  cpuS: number;
  cpuOf: string;
  /** PID of the client's root process (/usr/bin/time), for the process census. */
  clientPid: number;
  detail?: Record<string, unknown>;
}

export interface FactsMethod {
  id: string;
  label: string;
  /** Gather the facts of every host into runDir (a fresh directory), timed. */
  run(target: FactsTarget, runDir: string): Promise<FactsRun>;
  /** Throws unless every host's facts were gathered and saved by that run. */
  verify(target: FactsTarget, runDir: string, run: FactsRun): Promise<void>;
}
