import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { extractCredential } from '../../src/authn/extract-credential.js';
import type { Credential } from '../../src/authn/types.js';
import type { TokenSource } from '../../src/compile/snapshot.js';

const bearer: TokenSource = { type: 'header', header: 'authorization', prefix: 'bearer ' };
const cookie: TokenSource = { type: 'cookie', cookie: 'session' };
const query: TokenSource = { type: 'query', query: 'access_token' };
const raw: TokenSource = { type: 'header', header: 'x-token', prefix: '' };
const all = [bearer, cookie, query];

interface Case {
  name: string;
  headers?: Record<string, string[]>;
  path?: string;
  sources?: TokenSource[];
  expect: 'none' | 'conflict' | { token: string; type: 'header' | 'cookie' | 'query'; name: string };
}

const cases: Case[] = [
  { name: 'finds nothing in a request without credentials', expect: 'none' },
  { name: 'takes a bearer token from authorization', headers: { authorization: ['Bearer abc'] }, expect: { token: 'abc', type: 'header', name: 'authorization' } },
  { name: 'compares the Bearer scheme case-insensitively', headers: { authorization: ['bEaReR abc'] }, expect: { token: 'abc', type: 'header', name: 'authorization' } },
  { name: 'trims spaces around the token', headers: { authorization: ['Bearer   abc  '] }, expect: { token: 'abc', type: 'header', name: 'authorization' } },
  { name: 'treats another scheme as no token', headers: { authorization: ['Basic dXNlcjpwYXNz'] }, expect: 'none' },
  { name: 'matches the scheme in any case, with extra spaces', headers: { authorization: ['  bEARER   abc '] }, expect: { token: 'abc', type: 'header', name: 'authorization' } },
  { name: 'needs the space after the scheme', headers: { authorization: ['Bearerabc'] }, expect: 'none' },
  { name: 'treats a scheme that only shares letters as another scheme', headers: { authorization: ['Bearez abc'] }, expect: 'none' },
  { name: 'treats a bare Bearer as no token', headers: { authorization: ['Bearer'] }, expect: 'none' },
  { name: 'treats Bearer with only spaces as no token', headers: { authorization: ['Bearer    '] }, expect: 'none' },
  { name: 'does not take BearerX as the Bearer scheme', headers: { authorization: ['Bearerabc'] }, expect: 'none' },
  { name: 'rejects two comma-joined bearer credentials in one header', headers: { authorization: ['Bearer a,Bearer b'] }, expect: 'conflict' },
  { name: 'rejects two occurrences of the authorization header', headers: { authorization: ['Bearer a', 'Bearer b'] }, expect: 'conflict' },
  { name: 'rejects the same token sent twice in one header', headers: { authorization: ['Bearer a, Bearer a'] }, expect: 'conflict' },
  { name: 'ignores a Basic credential next to one bearer token', headers: { authorization: ['Basic x, Bearer a'] }, expect: { token: 'a', type: 'header', name: 'authorization' } },
  { name: 'takes the whole value of a prefix-less header', headers: { 'x-token': ['abc'] }, sources: [raw], expect: { token: 'abc', type: 'header', name: 'x-token' } },
  { name: 'takes a token from a cookie', headers: { cookie: ['a=1; session=tok; b=2'] }, expect: { token: 'tok', type: 'cookie', name: 'session' } },
  { name: 'unwraps a quoted cookie value', headers: { cookie: ['session="tok"'] }, expect: { token: 'tok', type: 'cookie', name: 'session' } },
  { name: 'matches cookie names exactly', headers: { cookie: ['Session=tok; xsession=t2'] }, expect: 'none' },
  { name: 'rejects one cookie name with two values', headers: { cookie: ['session=a; session=b'] }, expect: 'conflict' },
  { name: 'rejects one cookie with two values across cookie headers', headers: { cookie: ['session=a', 'session=b'] }, expect: 'conflict' },
  { name: 'accepts one cookie repeated with the same value', headers: { cookie: ['session=a', 'session=a'] }, expect: { token: 'a', type: 'cookie', name: 'session' } },
  { name: 'treats an empty cookie as no token', headers: { cookie: ['session='] }, expect: 'none' },
  { name: 'takes a token from the query string', path: '/x?a=1&access_token=tok', expect: { token: 'tok', type: 'query', name: 'access_token' } },
  { name: 'percent-decodes the query parameter', path: '/x?access_token=a%2Eb%2Ec', expect: { token: 'a.b.c', type: 'query', name: 'access_token' } },
  { name: 'matches a percent-encoded query parameter name', path: '/x?access%5Ftoken=tok', expect: { token: 'tok', type: 'query', name: 'access_token' } },
  { name: 'rejects a query parameter given twice', path: '/x?access_token=a&access_token=b', expect: 'conflict' },
  { name: 'rejects an undecodable query parameter', path: '/x?access_token=%E0%A4%A', expect: 'conflict' },
  { name: 'treats an empty query parameter as no token', path: '/x?access_token=', expect: 'none' },
  { name: 'ignores the fragment', path: '/x?a=1#access_token=tok', expect: 'none' },
  { name: 'ignores a token in a source the policy does not list', path: '/x?access_token=tok', sources: [bearer], expect: 'none' },
  {
    name: 'uses the first source holding a credential',
    headers: { cookie: ['session=tok'] },
    path: '/x?access_token=tok',
    expect: { token: 'tok', type: 'cookie', name: 'session' },
  },
  {
    name: 'accepts the same token in two sources',
    headers: { authorization: ['Bearer tok'], cookie: ['session=tok'] },
    expect: { token: 'tok', type: 'header', name: 'authorization' },
  },
  { name: 'rejects different tokens in header and cookie', headers: { authorization: ['Bearer a'], cookie: ['session=b'] }, expect: 'conflict' },
  { name: 'rejects different tokens in header and query', headers: { authorization: ['Bearer a'] }, path: '/x?access_token=b', expect: 'conflict' },
  { name: 'rejects a conflict in a later source too', headers: { authorization: ['Bearer a'] }, path: '/x?access_token=a&access_token=a', expect: 'conflict' },
];

function run(c: Case): Credential {
  const headers = new Map(Object.entries(c.headers ?? {}));
  return extractCredential(headers, c.path ?? '/x', c.sources ?? all);
}

describe('extractCredential', () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = run(c);
      if (c.expect === 'none') assert.deepEqual(got, { kind: 'none' });
      else if (c.expect === 'conflict') {
        assert.equal(got.kind, 'conflict');
        if (got.kind === 'conflict') assert.ok(!/\b(a|b|tok)\b/.test(got.description), 'no token in the description');
      } else assert.deepEqual(got, { kind: 'token', token: c.expect.token, source: { type: c.expect.type, name: c.expect.name } });
    });
  }
});
