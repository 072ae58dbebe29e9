import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileConfigSource } from '../../src/config/file-source.js';
import type { LoadedConfig } from '../../src/model/load-config-dir.js';

const revocation = (jti: string) => `apiVersion: claimcheck.io/v1alpha1
kind: TokenRevocation
metadata: {name: r}
spec:
  issuer: idp
  jtis: [${jti}]
`;

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const jtisOf = (l: LoadedConfig | undefined): string[] | undefined =>
  l?.resources.flatMap((r) => (r.kind === 'TokenRevocation' ? r.spec.jtis ?? [] : []));

describe('FileConfigSource', () => {
  let dir: string;
  let source: FileConfigSource | undefined;
  let deliveries: LoadedConfig[];
  const latest = () => deliveries[deliveries.length - 1];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-src-'));
    deliveries = [];
  });
  afterEach(async () => {
    source?.stop();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  test('delivers the initial load before start resolves', async () => {
    await writeFile(join(dir, 'r.yaml'), revocation('one'));
    source = new FileConfigSource({ dir });
    await source.start((l) => deliveries.push(l));
    assert.equal(deliveries.length, 1);
    assert.deepEqual(jtisOf(latest()), ['one']);
    assert.deepEqual(latest()!.files, [join(dir, 'r.yaml')]);
  });

  test('delivers an edit within one second', async () => {
    await writeFile(join(dir, 'r.yaml'), revocation('one'));
    source = new FileConfigSource({ dir });
    await source.start((l) => deliveries.push(l));
    await writeFile(join(dir, 'r.yaml'), revocation('two'));
    await waitFor('the edited jti', () => (jtisOf(latest())?.[0] === 'two' ? true : undefined));
  });

  test('delivers problems with file and line when a file breaks', async () => {
    await writeFile(join(dir, 'r.yaml'), revocation('one'));
    source = new FileConfigSource({ dir });
    await source.start((l) => deliveries.push(l));
    await writeFile(join(dir, 'r.yaml'), revocation('one').replace('jtis:', 'jtiz:'));
    const broken = await waitFor('a problem', () => (latest()!.problems.length > 0 ? latest() : undefined));
    assert.equal(broken.problems[0]!.file, join(dir, 'r.yaml'));
    assert.equal(broken.problems[0]!.line, 6);
    assert.match(broken.problems[0]!.message, /unknown field "jtiz"/);
  });

  test('picks up new files in subdirectories and deleted files', async () => {
    source = new FileConfigSource({ dir });
    await source.start((l) => deliveries.push(l));
    assert.deepEqual(jtisOf(latest()), []);
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'r.yaml'), revocation('nested'));
    await waitFor('the new file', () => (jtisOf(latest())?.[0] === 'nested' ? true : undefined));
    await rm(join(dir, 'sub', 'r.yaml'));
    await waitFor('the deletion', () => (jtisOf(latest())?.length === 0 ? true : undefined));
  });

  test('follows a ConfigMap-style ..data symlink swap', async () => {
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'r.yaml'), revocation('v1'));
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'r.yaml'), join(dir, 'r.yaml'));
    source = new FileConfigSource({ dir });
    await source.start((l) => deliveries.push(l));
    assert.deepEqual(jtisOf(latest()), ['v1']);
    // kubelet's atomic update: new versioned dir, new ..data_tmp link, rename over ..data
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'r.yaml'), revocation('v2'));
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..v1'), { recursive: true });
    await waitFor('the swapped content', () => (jtisOf(latest())?.[0] === 'v2' ? true : undefined));
  });

  test('does not deliver again when nothing changed', async () => {
    await writeFile(join(dir, 'r.yaml'), revocation('one'));
    source = new FileConfigSource({ dir, rescanMs: 20 });
    await source.start((l) => deliveries.push(l));
    // touch with identical content: the stat scan notices, the content check suppresses it
    await writeFile(join(dir, 'r.yaml'), revocation('one'));
    await writeFile(join(dir, 'other.yaml'), revocation('two'));
    await waitFor('the second file', () => (deliveries.length >= 2 ? true : undefined));
    assert.equal(deliveries.length, 2);
    assert.deepEqual(jtisOf(latest())?.sort(), ['one', 'two']);
  });

  test('stop ends deliveries', async () => {
    source = new FileConfigSource({ dir, rescanMs: 20 });
    await source.start((l) => deliveries.push(l));
    source.stop();
    await writeFile(join(dir, 'r.yaml'), revocation('late'));
    // a fresh source sees the file, proving it was written, while the stopped one stayed silent
    const probe = new FileConfigSource({ dir });
    const seen: LoadedConfig[] = [];
    await probe.start((l) => seen.push(l));
    probe.stop();
    assert.deepEqual(jtisOf(seen[0]), ['late']);
    assert.equal(deliveries.length, 1);
  });
});
