/** Writes generated files, or (with check) only says which ones differ from what is committed. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** `files`: absolute path → content. Returns how many differ (and were written unless `check`). */
export function writeGenerated(files: ReadonlyMap<string, string>, check: boolean, label: (file: string) => string = (f) => f): number {
  let stale = 0;
  for (const [file, text] of files) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // a new file
    }
    if (current === text) continue;
    stale++;
    if (check) {
      console.error(`${label(file)} differs from the generator's output`);
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  return stale;
}
