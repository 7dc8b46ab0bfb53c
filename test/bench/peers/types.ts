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
