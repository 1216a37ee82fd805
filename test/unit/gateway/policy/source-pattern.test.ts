import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callerOf, parseSource, sourceMatches, type Caller } from '../../../../gateway/policy/source-pattern.js';
import { source } from './policy-builders.js';

function caller(spiffeId: string | undefined, classes: string[] = [], via?: string): Caller {
  return { ...callerOf(spiffeId, via), classes: new Set(classes) };
}

describe('parseSource', () => {
  const parsed: Array<[string, unknown]> = [
    ['anonymous', { kind: 'anonymous', text: 'anonymous' }],
    ['class:dev', { kind: 'class', text: 'class:dev', name: 'dev' }],
    ['class:team-7', { kind: 'class', text: 'class:team-7', name: 'team-7' }],
    ['spiffe://corp.example', { kind: 'domain', text: 'spiffe://corp.example', trustDomain: 'corp.example' }],
    ['spiffe://corp.example/*', { kind: 'domain', text: 'spiffe://corp.example/*', trustDomain: 'corp.example' }],
    ['spiffe://corp.example/ns/default/sa/scott', { kind: 'id', text: 'spiffe://corp.example/ns/default/sa/scott', id: 'spiffe://corp.example/ns/default/sa/scott' }],
    ['spiffe://corp.example/ns/*/sa/scott', {
      kind: 'pattern', text: 'spiffe://corp.example/ns/*/sa/scott', trustDomain: 'corp.example', segments: ['ns', '*', 'sa', 'scott'], rest: false,
    }],
    ['spiffe://corp.example/ns/prod/*', {
      kind: 'pattern', text: 'spiffe://corp.example/ns/prod/*', trustDomain: 'corp.example', segments: ['ns', 'prod', '*'], rest: true,
    }],
    ['spiffe://corp.example/*/x/*', {
      kind: 'pattern', text: 'spiffe://corp.example/*/x/*', trustDomain: 'corp.example', segments: ['*', 'x', '*'], rest: true,
    }],
  ];
  for (const [text, expected] of parsed) {
    it(`parses ${text}`, () => assert.deepEqual(parseSource(text), expected));
  }

  const refused: Array<[string, RegExp]> = [
    ['spiffe://x/a*b', /\* must be a whole path segment \(segment 1 is "a\*b"\)/],
    ['spiffe://x/ns/**', /\* must be a whole path segment \(segment 2 is "\*\*"\)/],
    ['http://x', /is not anonymous, class:<name> or a spiffe:\/\/ ID or pattern/],
    ['', /is not anonymous/],
    ['Anonymous', /is not anonymous/],
    ['spiffe://X', /trust domain may hold only lower-case/],
    ['spiffe://X/ns/*', /"spiffe:\/\/X\/ns\/\*".*trust domain may hold only lower-case/],
    ['spiffe://x//a', /empty path segment/],
    ['spiffe://x/a//*', /empty path segment/],
    ['spiffe://x/a/', /trailing "\/"/],
    ['spiffe://x/*/', /trailing "\/"/],
    ['spiffe://x/a/../b', /"\." and "\.\." path segments/],
    ['spiffe:///a', /trust domain is empty/],
    ['spiffe://x:8443/a', /port is not allowed/],
    ['class:', /a class name is lower-case/],
    ['class:Dev', /a class name is lower-case/],
    ['class:-dev', /a class name is lower-case/],
  ];
  for (const [text, reason] of refused) {
    it(`refuses ${JSON.stringify(text)} with the reason`, () => {
      const result = parseSource(text);
      assert.equal(typeof result, 'string', `${text} should not parse`);
      assert.match(result as string, reason);
    });
  }
});

describe('sourceMatches', () => {
  const scott = 'spiffe://corp.example/ns/default/sa/scott';
  // [pattern, caller SPIFFE ID (undefined: anonymous), caller classes, expected]
  const table: Array<[string, string | undefined, string[], boolean]> = [
    // exact
    [scott, scott, [], true],
    [scott, 'spiffe://corp.example/ns/default/sa/scott2', [], false],
    [scott, 'spiffe://corp.example/ns/default/sa', [], false],
    [scott, 'spiffe://other.example/ns/default/sa/scott', [], false],
    // `*` segment: exactly one segment, any value
    ['spiffe://corp.example/ns/*/sa/scott', scott, [], true],
    ['spiffe://corp.example/ns/*/sa/scott', 'spiffe://corp.example/ns/prod/sa/scott', [], true],
    ['spiffe://corp.example/ns/*/sa/scott', 'spiffe://corp.example/ns/a/b/sa/scott', [], false],
    ['spiffe://corp.example/ns/*/sa/scott', 'spiffe://corp.example/ns/prod/sa/bob', [], false],
    // trailing `*`: one segment or more
    ['spiffe://corp.example/ns/default/*', scott, [], true],
    ['spiffe://corp.example/ns/default/*', 'spiffe://corp.example/ns/default/sa', [], true],
    ['spiffe://corp.example/ns/default/*', 'spiffe://corp.example/ns/default', [], false],
    ['spiffe://corp.example/ns/default/*', 'spiffe://corp.example/ns/defaultx/sa', [], false],
    ['spiffe://corp.example/ns/default/*', 'spiffe://other.example/ns/default/sa/scott', [], false],
    ['spiffe://corp.example/*/default/*', scott, [], true],
    ['spiffe://corp.example/*/default/*', 'spiffe://corp.example/ns/prod/sa/scott', [], false],
    // whole trust domain
    ['spiffe://corp.example', scott, [], true],
    ['spiffe://corp.example/*', scott, [], true],
    ['spiffe://corp.example/*', 'spiffe://corp.example/x', [], true],
    ['spiffe://corp.example', 'spiffe://corp.example.evil/ns/a', [], false],
    ['spiffe://corp.example/*', 'spiffe://evil.corp.example/ns/a', [], false],
    ['spiffe://corp.example', undefined, [], false],
    // anonymous
    ['anonymous', undefined, [], true],
    ['anonymous', scott, [], false],
    // class membership (resolved into the caller first)
    ['class:dev', 'spiffe://dev.example/ns/a/sa/b', ['dev'], true],
    ['class:dev', 'spiffe://dev.example/ns/a/sa/b', ['batch'], false],
    ['class:dev', undefined, ['dev'], true],
  ];
  for (const [pattern, id, classes, expected] of table) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${id ?? 'anonymous'}${classes.length > 0 ? ` [${classes.join(',')}]` : ''}`, () => {
      assert.equal(sourceMatches(source(pattern), caller(id, classes)), expected);
    });
  }

  it('never matches an anonymous caller by trust domain, even one that came through a gateway of it', () => {
    const anonymousViaCorp = caller(undefined, [], 'corp.example');
    assert.equal(anonymousViaCorp.trustDomain, 'corp.example');
    for (const pattern of ['spiffe://corp.example', 'spiffe://corp.example/*', 'spiffe://corp.example/ns/*']) {
      assert.equal(sourceMatches(source(pattern), anonymousViaCorp), false, pattern);
    }
  });
});

describe('callerOf', () => {
  it('splits a SPIFFE ID into trust domain and segments', () => {
    assert.deepEqual(callerOf('spiffe://corp.example/ns/default/sa/scott'), {
      spiffeId: 'spiffe://corp.example/ns/default/sa/scott', trustDomain: 'corp.example', segments: ['ns', 'default', 'sa', 'scott'],
    });
    assert.deepEqual(callerOf('spiffe://corp.example'), { spiffeId: 'spiffe://corp.example', trustDomain: 'corp.example', segments: [] });
  });

  it('gives an anonymous caller the trust domain it came through, and no segments', () => {
    assert.deepEqual(callerOf(undefined, 'a.test'), { spiffeId: undefined, trustDomain: 'a.test', segments: [] });
    assert.deepEqual(callerOf(undefined), { spiffeId: undefined, trustDomain: undefined, segments: [] });
  });
});
