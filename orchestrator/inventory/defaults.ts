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
  retries: 3,
  keepaliveMs: 15_000,
  remoteDir: '.orchestrate',
  profile: 'default',
} as const;
