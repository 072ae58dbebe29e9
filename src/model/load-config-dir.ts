import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { parseManifests } from './parse-manifests.js';
import type { AnyResource } from './types.js';

export interface LoadedConfig {
  resources: AnyResource[];
  problems: ConfigProblem[];
  /** the manifest files read, in load order */
  files: string[];
  /** claimcheck.io documents found, valid or not */
  documents: number;
}

export interface ConfigFileStat {
  file: string;
  mtimeMs: number;
  size: number;
  ino: number;
}

const MANIFEST = /\.ya?ml$/i;

/**
 * Every *.yaml / *.yml under `dir`, recursively, sorted. Names starting with "." are
 * skipped: a Kubernetes ConfigMap mount keeps the real files under `..data` /
 * `..2024_...` and exposes them as top-level symlinks, so each file is read exactly once
 * (through its symlink, which stat follows). Symlinked directories are followed once.
 */
export async function listConfigFiles(dir: string, problems: ConfigProblem[] = []): Promise<ConfigFileStat[]> {
  const out: ConfigFileStat[] = [];
  const seenDirs = new Set<string>();
  async function walk(d: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(d);
    } catch (err) {
      problems.push({ code: 'config_dir_unreadable', file: d, message: `cannot read config directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let names: string[];
    try {
      names = (await readdir(d)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      problems.push({ code: 'config_dir_unreadable', file: d, message: `cannot read config directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      let st;
      try {
        st = await stat(p);
      } catch {
        continue; // dangling symlink or a file removed while listing: the next scan sees the new state
      }
      if (st.isDirectory()) await walk(p);
      else if (st.isFile() && MANIFEST.test(name)) out.push({ file: p, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino });
    }
  }
  await walk(dir);
  return out;
}

/** Read and parse every manifest under `dir`. Never throws; unreadable parts become problems. */
export async function loadConfigDir(dir: string): Promise<LoadedConfig> {
  const problems: ConfigProblem[] = [];
  const files = (await listConfigFiles(dir, problems)).map((f) => f.file);
  return loadFiles(files, problems);
}

export async function loadFiles(files: string[], problems: ConfigProblem[] = []): Promise<LoadedConfig> {
  const resources: AnyResource[] = [];
  const read: string[] = [];
  let documents = 0;
  for (const file of files) {
    const text = await readTextFile(file, problems);
    if (text === undefined) continue;
    read.push(file);
    const parsed = parseManifests(text, file);
    for (const r of parsed.resources) resources.push(r);
    problems.push(...parsed.problems);
    documents += parsed.documents;
  }
  return { resources, problems, files: read, documents };
}

/** The file's text, or undefined with a problem when it cannot be read. */
export async function readTextFile(file: string, problems: ConfigProblem[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    problems.push({ file, message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return undefined;
  }
}
