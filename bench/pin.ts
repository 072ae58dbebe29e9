/**
 * CPU pinning: the server under test on CPU 0, ghz and this runner on CPU 1 (taskset), so on
 * a 2-core machine the server never shares its core (the runner's own garbage collection
 * after reading the token pools once slowed the first baseline by a third) and a single-process server gets exactly one
 * core, like the peer with GOMAXPROCS=1. `--workers` rows are not pinned. Off with
 * BENCH_PIN=0, or where taskset or a second CPU is missing.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

let enabled: boolean | undefined;
/** rows that must not be pinned (several worker processes) */
let serverUnpinned = false;

export function pinningEnabled(): boolean {
  if (enabled === undefined) {
    enabled = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && hasTaskset();
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
  if (!pinningEnabled() || (role === 'server' && serverUnpinned)) return [cmd, args];
  return ['taskset', ['-c', role === 'server' ? '0' : '1', cmd, ...args]];
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
