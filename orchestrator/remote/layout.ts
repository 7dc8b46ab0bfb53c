// Where things live on a host, under the host's remote_dir (relative paths are from the
// login directory). Job directories are keyed by sweep and job id, which the planner
// builds from validated names only: one directory per sweep x job directly under jobs/
// (`<sweep id>_<job id>`; a sweep id holds no '_'), so the agent's removal of a collected job
// leaves nothing of it behind, and a job costs its host one directory less to make.

export interface RemoteLayout {
  root: string;
  bundleDir(hash: string): string;
  agent(hash: string): string;
  /** `<root>/jobs/<sweep id>_<job id>`. */
  jobDir(sweepId: string, jobId: string): string;
  /** Where a file pushed for jobs lives: one directory per content hash (push-job-files.ts). */
  jobFile(sha256: string, name: string): string;
}

export function remoteLayout(remoteDir: string): RemoteLayout {
  // A leading ~/ means the login directory, which is where relative paths start anyway;
  // quoted, ~ would not expand, so drop it rather than create a directory named '~'.
  const root = remoteDir.replace(/^~\/?/, '') || '.';
  return {
    root,
    bundleDir: (hash) => `${root}/bundles/${hash}`,
    agent: (hash) => `${root}/bundles/${hash}/remote-scripts/orchestrate-agent`,
    jobDir: (sweepId, jobId) => `${root}/jobs/${sweepId}_${jobId}`,
    jobFile: (sha256, name) => `${root}/files/${sha256}/${name}`,
  };
}
