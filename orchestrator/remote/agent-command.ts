// The command line of a verb of the agent (remote-scripts/orchestrate-agent) in a session of
// its own: `exec bash AGENT BUNDLE VERB ARG...`. `exec`: the login shell becomes the agent, so
// the session's stdout ends when the agent closes it (a shell that waits instead, dash, would
// hold it open past that: until the verdict of a collection, past the end of a phase's events).
import { command, raw, type Part, type ShellCommand } from '../connectors/shell-command.js';
import type { RemoteLayout } from './layout.js';

export function agentCommand(layout: RemoteLayout, bundleHash: string, verb: string, args: readonly string[], env: Record<string, Part> = {}): ShellCommand {
  return command([raw('exec'), 'bash', layout.agent(bundleHash), layout.bundleDir(bundleHash), verb, ...args], { env });
}
