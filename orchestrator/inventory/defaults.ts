// Built-in values for whatever no inventory layer (nor the ssh config) sets.

export const DEFAULTS = {
  resultsDir: './results',
  knownHosts: '~/.ssh/known_hosts',
  sshConfig: '~/.ssh/config',
  profilesDir: './profiles.d',
  concurrency: 20,
  connectMs: 10_000,
  phaseMs: 3_600_000,
  jobMs: 6 * 3_600_000,
  /** A stream from a host (artifact collection) that moves no byte for this long is stalled. */
  stallMs: 60_000,
  retries: 3,
  keepaliveMs: 15_000,
  remoteDir: '.orchestrate',
  profile: 'default',
  /** Artifact bytes collected per job (8 GiB); the inventory's max_artifact_size replaces it. */
  maxArtifactBytes: 8 * 1024 ** 3,
} as const;
