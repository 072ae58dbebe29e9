/**
 * How many CPUs this process may use, for the default `--workers` (`auto`): the cgroup CPU
 * quota, then the cgroup cpuset, then os.availableParallelism(), the smallest that is known.
 * In a container os.cpus() and availableParallelism() see the node's CPUs, not the pod's
 * limit (a 2-CPU limit on a 64-core node would start 64 workers to be throttled).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

export interface CpuSources {
  /** the cgroup filesystem of this process (/sys/fs/cgroup in a container's cgroup namespace) */
  cgroupRoot: string;
  available: () => number;
}

export const DEFAULT_CPU_SOURCES: CpuSources = { cgroupRoot: '/sys/fs/cgroup', available: availableParallelism };

export interface CpuCount {
  cpus: number;
  /** which limit decided: quota (cpu.max or cfs_quota_us), cpuset, or the host */
  from: 'quota' | 'cpuset' | 'host';
}

export function usableCpus(src: CpuSources = DEFAULT_CPU_SOURCES): CpuCount {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(join(src.cgroupRoot, path), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const candidates: CpuCount[] = [{ cpus: Math.max(1, src.available()), from: 'host' }];
  const quota = quotaCpus(read('cpu.max'), read('cpu/cpu.cfs_quota_us'), read('cpu/cpu.cfs_period_us'));
  if (quota !== undefined) candidates.push({ cpus: quota, from: 'quota' });
  const cpuset = cpusetSize(read('cpuset.cpus.effective') ?? read('cpuset/cpuset.effective_cpus'));
  if (cpuset !== undefined) candidates.push({ cpus: cpuset, from: 'cpuset' });
  // the smallest wins; on a tie the more specific source names the reason
  return candidates.reduce((a, b) => (b.cpus <= a.cpus ? b : a));
}

/**
 * cgroup v2 `cpu.max` is "QUOTA PERIOD" or "max PERIOD"; v1 has cfs_quota_us (-1: none) and
 * cfs_period_us. A fraction rounds down (1.5 CPUs: one worker, never throttled), at least 1.
 */
export function quotaCpus(cpuMax: string | undefined, v1Quota: string | undefined, v1Period: string | undefined): number | undefined {
  let quota: number;
  let period: number;
  if (cpuMax !== undefined) {
    const [q, p] = cpuMax.split(/\s+/);
    if (q === 'max') return undefined;
    [quota, period] = [Number(q), Number(p ?? '100000')];
  } else if (v1Quota !== undefined && v1Period !== undefined) {
    [quota, period] = [Number(v1Quota), Number(v1Period)];
  } else {
    return undefined;
  }
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.floor(quota / period));
}

/** "0-3,8,10-11" → 7 */
export function cpusetSize(list: string | undefined): number | undefined {
  if (!list) return undefined;
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo) return undefined;
    n += hi - lo + 1;
  }
  return n > 0 ? n : undefined;
}
