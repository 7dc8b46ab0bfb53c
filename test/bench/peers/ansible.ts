// Section "cli" (ansibleSetup): `ansible lab -m setup --tree DIR`, the facts of every host saved
// as one JSON file per host, in the same clean environment and with the same connection settings.
//
// Section "fleet", method 5: ansible-playbook (Debian's ansible-core) with a copy task and a shell task, forks = N,
// gather_facts off, pipelining on, ssh ControlPersist (Ansible's default way to reuse the
// connection between tasks), host keys checked against the lab's known_hosts.
//
// Ansible gets its own clean environment: PATH=/usr/bin:/bin (Debian's python3, not root's pyenv),
// HOME, ANSIBLE_HOME and ANSIBLE_LOCAL_TEMP in a scratch dir, ANSIBLE_CONFIG pointing at a
// generated ansible.cfg; nothing of root's configuration is read or written.
//
// CPU: /usr/bin/time covers ansible-playbook, its forks and the ssh clients they waited for. The
// ControlPersist master of each host daemonizes, so its CPU is read from /proc/<pid>/stat (pid from
// `ssh -O check`) before it is stopped with `ssh -O exit` on its control socket.
import { execa } from 'execa';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Lab, LabHost } from '../../lab/lab.js';
import type { FactsMethod, FactsRun, FactsTarget, FleetTarget, Method, MethodRun } from './types.js';
import { timed, TRIVIAL_PHASE } from './cli-tools.js';

const CLK_TCK = 100; // Linux USER_HZ

let runCounter = 0;

/** Stop the run's ControlPersist masters (by their control sockets) and return their CPU seconds. */
async function stopMasters(controlDir: string): Promise<{ masters: number; cpuS: number }> {
  let sockets: string[] = [];
  try {
    sockets = await readdir(controlDir);
  } catch {
    return { masters: 0, cpuS: 0 };
  }
  let cpuS = 0;
  let masters = 0;
  await Promise.all(
    sockets.map(async (name) => {
      const socket = path.join(controlDir, name);
      const check = await execa('ssh', ['-F', '/dev/null', '-o', `ControlPath=${socket}`, '-O', 'check', 'bench-mux'], { reject: false });
      const pid = Number(/pid=(\d+)/.exec(`${check.stderr}${check.stdout}`)?.[1]);
      if (Number.isInteger(pid) && pid > 0) {
        masters++;
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // after "pid (comm) ": state is fields[0]; utime, stime are stat fields 14 and 15.
        const utime = Number(fields[11]);
        const stime = Number(fields[12]);
        if (Number.isFinite(utime) && Number.isFinite(stime)) cpuS += (utime + stime) / CLK_TCK;
      }
      await execa('ssh', ['-F', '/dev/null', '-o', `ControlPath=${socket}`, '-O', 'exit', 'bench-mux'], { reject: false });
    }),
  );
  return { masters, cpuS };
}

/** A scratch ansible setup of its own: config, inventory of the lab's hosts, clean environment. */
interface AnsibleWorkspace {
  dir: string;
  cfg: string;
  inventory: string;
  controlDir: string;
  env: Record<string, string>;
}

async function ansibleWorkspace(target: { n: number; lab: Lab; hosts: LabHost[] }, dir: string, forks: number): Promise<AnsibleWorkspace> {
  const home = path.join(dir, 'home');
  const localTmp = path.join(dir, 'tmp');
  const controlDir = path.join(dir, 'cp');
  await Promise.all([home, localTmp, controlDir].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
  const lab = target.lab;
  const cfg = path.join(dir, 'ansible.cfg');
  const inventory = path.join(dir, 'inventory.ini');
  await writeFile(
    cfg,
    [
      '[defaults]',
      `inventory = ${inventory}`,
      `forks = ${forks}`,
      'host_key_checking = True',
      'gathering = explicit',
      'interpreter_python = /usr/bin/python3',
      'retry_files_enabled = False',
      `local_tmp = ${localTmp}`,
      'remote_tmp = ~/.ansible/tmp',
      'deprecation_warnings = False',
      'nocolor = True',
      '',
      '[ssh_connection]',
      'pipelining = True',
      '# Ansible\'s default ssh_args, plus no user ssh config.',
      'ssh_args = -F /dev/null -C -o ControlMaster=auto -o ControlPersist=60s',
      `control_path_dir = ${controlDir}`,
      `control_path = ${controlDir}/%%h-%%p`,
      '',
    ].join('\n'),
  );
  await writeFile(
    inventory,
    [
      '[lab]',
      ...target.hosts.map(
        (h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=root bench_home=${h.home}`,
      ),
      '',
      '[lab:vars]',
      `ansible_ssh_private_key_file=${lab.clientKey}`,
      `ansible_ssh_common_args='-o IdentitiesOnly=yes -o UserKnownHostsFile=${lab.knownHostsFile} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes'`,
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ANSIBLE_CONFIG: cfg,
    ANSIBLE_HOME: path.join(home, '.ansible'),
    ANSIBLE_LOCAL_TEMP: localTmp,
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
  };
  return { dir, cfg, inventory, controlDir, env };
}

/** Run an ansible command line in its workspace under /usr/bin/time; stops its ControlPersist masters afterwards. */
async function timedAnsible(ws: AnsibleWorkspace, argv: string[]) {
  let r;
  let masters = { masters: 0, cpuS: 0 };
  try {
    r = await timed(argv, { timeFile: path.join(ws.dir, 'time.txt'), env: ws.env, extendEnv: false, cwd: ws.dir });
  } finally {
    masters = await stopMasters(ws.controlDir);
  }
  return { r, masters };
}

export const ansible: Method = {
  id: 'ansible',
  label: 'ansible-playbook (copy + shell, forks = N)',
  bundleDir: (remoteDir) => remoteDir,
  async run(target: FleetTarget, remoteDir: string): Promise<MethodRun> {
    const ws = await ansibleWorkspace(target, path.join(target.work, `ansible-${++runCounter}`), target.n);
    const playbook = path.join(ws.dir, 'playbook.yml');
    await writeFile(
      playbook,
      [
        '- hosts: lab',
        '  gather_facts: false',
        '  tasks:',
        '    - name: push the bundle',
        '      ansible.builtin.copy:',
        `        src: ${target.bundleFile}`,
        `        dest: "{{ bench_home }}/${remoteDir}.tgz"`,
        "        mode: '0644'",
        '    - name: extract it and run the trivial phase',
        `      ansible.builtin.shell: mkdir -p ${remoteDir} && tar -xzf ${remoteDir}.tgz -C ${remoteDir} && ${TRIVIAL_PHASE}`,
        '      args:',
        '        chdir: "{{ bench_home }}"',
        '',
      ].join('\n'),
    );
    const { r, masters } = await timedAnsible(ws, ['ansible-playbook', playbook]);
    const recap = r.stdout.split('\n').filter((l) => /\bok=\d+/.test(l));
    const good = recap.filter((l) => /\bok=2\b/.test(l) && /\bfailed=0\b/.test(l) && /\bunreachable=0\b/.test(l)).length;
    if (r.exitCode !== 0 || good !== target.n) {
      throw new Error(`ansible-playbook: exit ${r.exitCode}, ${good}/${target.n} hosts ok=2\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    }
    return {
      wallS: r.wallS,
      cpuS: r.cpuS + masters.cpuS,
      cpuOf: 'client process tree (/usr/bin/time) + ControlPersist masters (/proc)',
      detail: { userS: r.userS, systemS: r.systemS, controlMasters: masters.masters, controlMastersCpuS: masters.cpuS },
    };
  },
};

/** Forks of `ansible -m setup` in section "cli": one per host, up to BENCH_CLI_ANSIBLE_FORKS (default 240). */
const SETUP_FORKS_CAP = Math.max(1, Number(process.env.BENCH_CLI_ANSIBLE_FORKS ?? 240) || 240);

/** `ansible lab -m setup --tree DIR`: one JSON file per host, named after its inventory name. */
export const ansibleSetup: FactsMethod = {
  id: 'ansible',
  label: 'ansible -m setup (--tree DIR)',
  async run(target: FactsTarget, runDir: string): Promise<FactsRun> {
    const forks = Math.min(target.n, SETUP_FORKS_CAP);
    const ws = await ansibleWorkspace(target, runDir, forks);
    const { r, masters } = await timedAnsible(ws, ['ansible', 'lab', '-m', 'ansible.builtin.setup', '--tree', path.join(runDir, 'facts'), '--one-line']);
    if (r.exitCode !== 0) {
      throw new Error(`ansible -m setup: exit ${r.exitCode}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    }
    return {
      wallS: r.wallS,
      cpuS: r.cpuS + masters.cpuS,
      clientPid: r.pid,
      cpuOf: 'client process tree (/usr/bin/time) + ControlPersist masters (/proc)',
      detail: { forks, userS: r.userS, systemS: r.systemS, controlMasters: masters.masters, controlMastersCpuS: masters.cpuS },
    };
  },
  async verify(target: FactsTarget, runDir: string): Promise<void> {
    const problems: string[] = [];
    await Promise.all(
      target.hosts.map(async (host) => {
        const file = path.join(runDir, 'facts', host.name);
        let facts: Record<string, unknown> | undefined;
        try {
          facts = (JSON.parse(await readFile(file, 'utf8')) as { ansible_facts?: Record<string, unknown> }).ansible_facts;
        } catch (error) {
          problems.push(`${host.name}: ${file}: ${(error as Error).message}`);
          return;
        }
        for (const key of ['ansible_processor_vcpus', 'ansible_memtotal_mb', 'ansible_mounts', 'ansible_devices', 'ansible_kernel']) {
          if (facts?.[key] === undefined) problems.push(`${host.name}: no ${key}`);
        }
      }),
    );
    if (problems.length > 0) throw new Error(`ansible -m setup did not gather every host's facts (${problems.length} problem(s)): ${problems.slice(0, 8).join('; ')}`);
  },
};
