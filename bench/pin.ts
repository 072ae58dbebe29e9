/**
 * CPU pinning: the server under test on CPU 0, ghz and this runner on CPU 1 (taskset). On a
 * 2-core machine the server never shares its core (the runner's own garbage collection after
 * reading the token pools once slowed the first baseline by a third), and a single-process
 * server gets exactly one core, like the peer with GOMAXPROCS=1. `--workers` rows get every
 * CPU. Off with BENCH_PIN=0, or where taskset or a second CPU is missing.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Read before pinSelf() narrows this process (and what it starts) to one CPU. */
export const MACHINE_CPUS = availableParallelism();

let enabled: boolean | undefined;
/** rows that must not be pinned (several worker processes) */
let serverUnpinned = false;

export function pinningEnabled(): boolean {
  if (enabled === undefined) {
    enabled = process.env.BENCH_PIN !== '0' && MACHINE_CPUS >= 2 && hasTaskset();
  }
  return enabled;
}

export function unpinServer(unpinned: boolean): void {
  serverUnpinned = unpinned;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}

/** [command, args] to run `cmd args` on the role's CPU (taskset execs it: the pid is the command's). */
export function pinned(role: 'server' | 'client', cmd: string, args: string[]): [string, string[]] {
  if (!pinningEnabled()) return [cmd, args];
  // Children inherit the runner's CPU: an unpinned row is given every CPU explicitly.
  const cpus = role === 'client' ? '1' : serverUnpinned ? `0-${MACHINE_CPUS - 1}` : '0';
  return ['taskset', ['-c', cpus, cmd, ...args]];
}

/** Moves this process (every thread, and so the threads it starts later) to the client's CPU. */
export function pinSelf(): void {
  if (!pinningEnabled()) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    // unpinned, the runner only adds noise
  }
}
