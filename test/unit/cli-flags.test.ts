import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDemoToken, parseServe } from '../../src/cli.js';
import { FLAGS, type FlagName } from '../../src/cli/flag-table.js';
import { render, SECTIONS } from '../../scripts/gen-flag-docs.js';
import { REPO } from '../helpers/claimcheck-process.js';

test('the flag tables in the docs are what the flag table generates', () => {
  for (const file of new Set(SECTIONS.map((s) => s.file))) {
    const text = readFileSync(join(REPO, file), 'utf8');
    assert.equal(render(file, text), text, `${file} is stale: npm run gen:flag-docs`);
  }
});

test('every flag has help, and every serve flag is documented in the docs', () => {
  const docs = readFileSync(join(REPO, 'docs/operations.md'), 'utf8') + readFileSync(join(REPO, 'docs/kubernetes.md'), 'utf8');
  for (const n of Object.keys(FLAGS) as FlagName[]) {
    assert.ok(FLAGS[n].help.length > 10, `--${n} has help`);
    if (FLAGS[n].commands.includes('serve')) assert.match(docs, new RegExp(`\\| \`--${n}\` \\|`), `--${n} in the docs`);
  }
});

test('the bundled demo listens on loopback unless an address is given; a real config dir on every interface', () => {
  const demo = parseServe([], {});
  assert.equal(demo.configDirOrigin, 'bundled');
  assert.equal(demo.grpcAddr, '127.0.0.1:9191');
  assert.equal(demo.httpAddr, '127.0.0.1:9090');
  const given = parseServe(['--grpc-addr', '0.0.0.0:9191'], {});
  assert.equal(given.grpcAddr, '0.0.0.0:9191');
  assert.equal(given.httpAddr, '127.0.0.1:9090');
  const real = parseServe(['--config-dir', '/etc/claimcheck'], {});
  assert.equal(real.configDirOrigin, 'flag');
  assert.equal(real.grpcAddr, '0.0.0.0:9191');
  assert.equal(real.httpAddr, '0.0.0.0:9090');
  const fromEnv = parseServe([], { CLAIMCHECK_CONFIG_DIR: '/etc/claimcheck' });
  assert.equal(fromEnv.grpcAddr, '0.0.0.0:9191', 'a variable counts as given');
  const k8s = parseServe(['--config-source', 'kubernetes'], {});
  assert.equal(k8s.grpcAddr, '0.0.0.0:9191', 'the demo rule is for the file source only');
});

test('--ready-requires-keys is off by default and reads true or false', () => {
  assert.equal(parseServe([], {}).readyRequiresKeys, false);
  assert.equal(parseServe(['--ready-requires-keys=true'], {}).readyRequiresKeys, true);
  assert.throws(() => parseServe(['--ready-requires-keys=yes'], {}), /--ready-requires-keys must be true or false/);
});

test('demo-token reads its CLAIMCHECK_ variables like every other command', () => {
  const o = parseDemoToken([], { CLAIMCHECK_SUB: 'carol', CLAIMCHECK_TTL: '2m', CLAIMCHECK_AUD: 'x' });
  assert.deepEqual({ sub: o.sub, ttlSec: o.ttlSec, aud: o.aud }, { sub: 'carol', ttlSec: 120, aud: 'x' });
  assert.equal(parseDemoToken(['--sub', 'dave'], { CLAIMCHECK_SUB: 'carol' }).sub, 'dave', 'the flag wins over the variable');
});

test('a flag of another command is refused with a pointer to --help', () => {
  assert.throws(() => parseServe(['--host', 'x'], {}), /serve: Unknown option '--host'.*claimcheck serve --help/);
});
