// Large inventories for the scale tests and the `inventory` bench section: a fleet of `hosts`
// hosts in groups of `perGroup`, the groups nested ten to a rack (racks -> groups -> hosts),
// defaults with a scenario, vars at every layer. Every host is listed by exactly one group.

export interface BigInventoryOptions {
  hosts: number;
  /** Hosts per group (default 100). */
  perGroup?: number;
  /** Characters of a NOTE var on every host, to make the file bigger (default none). */
  padding?: number;
  /** Scenario every host runs (default sysinfo, from defaults). */
  scenario?: string;
  /** Top-level lines before everything else (profiles_dir, ssh_config...). */
  header?: string[];
}

export const hostName = (i: number): string => `node-${String(i).padStart(5, '0')}`;
export const groupName = (g: number): string => `pod-${String(g).padStart(4, '0')}`;
export const rackName = (r: number): string => `rack-${String(r).padStart(3, '0')}`;
export const hostAddress = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export function bigInventoryText(options: BigInventoryOptions): string {
  const { hosts, perGroup = 100, padding = 0, scenario = 'sysinfo', header = ['ssh_config: none'] } = options;
  const groups = Math.ceil(hosts / perGroup);
  const racks = Math.ceil(groups / 10);
  const lines = [...header, 'concurrency: 50', 'defaults:', '  user: perf', '  port: 2222', '  vars: {LAYER: defaults, SITE: lab}', '  scenarios:', `    ${scenario}: {}`, 'groups:'];
  for (let r = 0; r < racks; r++) {
    const children: string[] = [];
    for (let g = r * 10; g < Math.min(groups, r * 10 + 10); g++) children.push(groupName(g));
    lines.push(`  ${rackName(r)}:`, `    children: [${children.join(', ')}]`, `    vars: {vars: {RACK: "${r}", LAYER: rack}}`);
  }
  for (let g = 0; g < groups; g++) {
    const members: string[] = [];
    for (let i = g * perGroup; i < Math.min(hosts, (g + 1) * perGroup); i++) members.push(hostName(i));
    lines.push(`  ${groupName(g)}:`, `    hosts: [${members.join(', ')}]`, `    vars: {roles: [midolman], vars: {POD: "${g}", LAYER: pod}}`);
  }
  lines.push('hosts:');
  const note = 'x'.repeat(padding);
  for (let i = 0; i < hosts; i++) {
    lines.push(`  ${hostName(i)}:`, `    address: ${hostAddress(i)}`);
    if (i % 10 === 0) lines.push(`    vars: {LAYER: host${padding > 0 ? `, NOTE: "${note}"` : ''}}`);
    else if (padding > 0) lines.push(`    vars: {NOTE: "${note}"}`);
  }
  return `${lines.join('\n')}\n`;
}
