// What the host-side helpers learn about the build under test, the agent's lifecycle, the cluster
// check and the profile's agent configuration files: environment variables of every midolman
// phase, built only from validated params (lists as lines; argv words one per line, commands
// separated by an empty line - a word is never empty). Plus the job files the build and the
// configuration need from this machine.
import type { JobFile } from '../types.js';
import { expandLocalDebs } from './local-debs.js';
import { agentIsManaged, type MidolmanParams } from './params.js';
import type { ProfileConfigFile } from './profile.js';

const DEFAULT_READY_TIMEOUT_MS = 120_000;

/** The agent configuration files of the host's profile (midolman/..., falling back file by file to default/). */
/** The line an apt source list gets for build.apt: `deb [options] URL SUITE [COMPONENTS]`. */
export function aptSourceLine(apt: NonNullable<NonNullable<MidolmanParams['build']>['apt']>): string {
  const options = [...(apt.trusted ? ['trusted=yes'] : []), ...(apt.signed_by ? [`signed-by=${apt.signed_by}`] : [])];
  const suite = apt.suite ?? './';
  return ['deb', ...(options.length ? [`[${options.join(' ')}]`] : []), apt.url, suite, ...(suite.endsWith('/') ? [] : (apt.components ?? []))].join(' ');
}

export function agentReadyTimeoutMs(params: MidolmanParams): number {
  return params.agent?.ready_timeout ?? DEFAULT_READY_TIMEOUT_MS;
}

/** Environment of the midolman phases for the build, the agent, the cluster check and the config files. */
export function agentEnv(params: MidolmanParams, configFiles: ProfileConfigFile[]): Record<string, string> {
  const agent = params.agent ?? {};
  const build = params.build;
  const env: Record<string, string> = {
    MIDOLMAN_AGENT_PACKAGE: agent.package ?? 'midolman',
    MIDOLMAN_AGENT_MANAGED: agentIsManaged(agent) ? '1' : '0',
    MIDOLMAN_AGENT_READY_TIMEOUT: String(Math.ceil(agentReadyTimeoutMs(params) / 1000)),
    MIDOLMAN_AGENT_STOP_AT_TEARDOWN: agent.stop_at_teardown === false ? '0' : '1',
    MIDOLMAN_AGENT_LOG: agent.log_file ?? '/var/log/midolman/midolman.log',
    MIDOLMAN_AGENT_CONFIG_DIR: agent.config_dir ?? '/etc/midolman',
    MIDOLMAN_BUILD_SOURCE: build?.local_debs ? 'local' : build?.host_debs ? 'host' : build?.apt ? 'apt' : 'none',
  };
  const optional: [string, string | undefined][] = [
    ['MIDOLMAN_AGENT_SERVICE', agent.service],
    ['MIDOLMAN_AGENT_START', agent.start?.join('\n')],
    ['MIDOLMAN_AGENT_STOP', agent.stop?.join('\n')],
    ['MIDOLMAN_AGENT_STATUS', agent.status?.join('\n')],
    ['MIDOLMAN_AGENT_PID_FILE', agent.pid_file],
    ['MIDOLMAN_AGENT_PROCESS_NAME', agent.process_name],
    ['MIDOLMAN_AGENT_MAIN_CLASS', agent.main_class],
    ['MIDOLMAN_JMX_URL', agent.jmx_url],
    ['MIDOLMAN_AGENT_GC_LOG', agent.gc_log],
    ['MIDOLMAN_BUILD_HOST_DEBS', build?.host_debs?.join('\n')],
    ['MIDOLMAN_APT_SOURCE', build?.apt ? aptSourceLine(build.apt) : undefined],
    ['MIDOLMAN_APT_PACKAGES', build?.apt ? Object.entries(build.apt.packages).map(([name, version]) => `${name}=${version}`).join('\n') : undefined],
    ['MIDOLMAN_APT_SYSTEM_SOURCES', build?.apt ? (build.apt.system_sources ? '1' : '0') : undefined],
    ['MIDOLMAN_CLUSTER_ENDPOINTS', params.cluster_check?.endpoints?.join('\n')],
    ['MIDOLMAN_CLUSTER_COMMANDS', params.cluster_check?.commands?.map((argv) => argv.join('\n')).join('\n\n')],
    ['MIDOLMAN_CLUSTER_TIMEOUT', params.cluster_check ? String(Math.ceil((params.cluster_check.timeout ?? 10_000) / 1000)) : undefined],
    // "path<TAB>where it came from" per profile configuration file (the files come as job files).
    ['MIDOLMAN_CONFIG_FILES', configFiles.length > 0 && agentIsManaged(agent) ? configFiles.map((f) => `${f.path}\t${f.from}`).join('\n') : undefined],
    ['MIDOLMAN_CONFIG_FILES_UNAPPLIED', configFiles.length > 0 && !agentIsManaged(agent) ? configFiles.map((f) => f.from).join('\n') : undefined],
  ];
  for (const [key, value] of optional) if (value !== undefined) env[key] = value;
  return env;
}

/** The files a midolman job needs from this machine: the build's local .debs, the profile's agent configuration. */
export async function midolmanJobFiles(params: MidolmanParams, configFiles: ProfileConfigFile[]): Promise<JobFile[]> {
  const files: JobFile[] = [];
  for (const deb of await expandLocalDebs(params.build?.local_debs ?? [])) files.push({ local: deb, label: 'build' });
  // Configuration files are applied only where the job restarts the agent (else it would not read them).
  if (agentIsManaged(params.agent)) for (const f of configFiles) files.push({ local: f.file, label: `config:${f.path}` });
  return files;
}
