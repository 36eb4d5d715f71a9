import { describe, expect, it } from 'vitest';
import { PluraError } from '../core/errors.js';
import { parseMatomoParams, parseMatomoQueryString } from './params.js';

describe('parseMatomoParams: merging', () => {
  it('merges the query and the body, POST winning', () => {
    const params = parseMatomoParams({ method: 'API.getMatomoVersion', idSite: '1' }, { idSite: '2', format: 'json' });
    expect(params.get('method')).toBe('API.getMatomoVersion');
    expect(params.get('idSite')).toBe('2');
    expect(params.get('format')).toBe('json');
    expect(params.get('missing')).toBeUndefined();
    expect(params.has('format')).toBe(true);
    expect(params.has('missing')).toBe(false);
    expect(Object.fromEntries(params.entries())).toEqual({ method: 'API.getMatomoVersion', idSite: '2', format: 'json' });
  });

  it('accepts a missing or non-object query or body', () => {
    for (const source of [undefined, null, 'idSite=1', 42, ['idSite']]) {
      const params = parseMatomoParams(source, { a: '1' });
      expect(params.entries()).toEqual([['a', '1']]);
      expect(parseMatomoParams({ a: '1' }, source).get('a')).toBe('1');
    }
  });

  it('ignores values that are not strings', () => {
    const params = parseMatomoParams({ obj: { nested: '1' }, nul: null, flag: true, undef: undefined, num: 7, mixed: ['x', 3, { y: 1 }] }, {});
    expect(params.has('obj')).toBe(false);
    expect(params.has('nul')).toBe(false);
    expect(params.has('flag')).toBe(false);
    expect(params.has('undef')).toBe(false);
    expect(params.has('num')).toBe(false);
    expect(params.getAll('mixed')).toEqual(['x']);
  });
});

describe('parseMatomoParams: token_auth', () => {
  it('is secure only when it came in the body and not in the query', () => {
    expect(parseMatomoParams({}, { token_auth: 'abc' }).tokenAuth).toEqual({ value: 'abc', secure: true });
    expect(parseMatomoParams({ token_auth: 'abc' }, {}).tokenAuth).toEqual({ value: 'abc', secure: false });
  });

  it('takes the body value but is not secure when the query also has one', () => {
    expect(parseMatomoParams({ token_auth: 'fromquery' }, { token_auth: 'frombody' }).tokenAuth).toEqual({ value: 'frombody', secure: false });
  });

  it('is undefined when absent or empty', () => {
    expect(parseMatomoParams({}, {}).tokenAuth).toBeUndefined();
    expect(parseMatomoParams({ token_auth: '' }, {}).tokenAuth).toBeUndefined();
    expect(parseMatomoParams({}, { token_auth: '' }).tokenAuth).toBeUndefined();
  });
});

describe('parseMatomoParams: readers', () => {
  it('require returns the value or throws Matomo\'s message', () => {
    const params = parseMatomoParams({ idSite: '3', empty: '' }, {});
    expect(params.require('idSite')).toBe('3');
    for (const name of ['period', 'empty']) {
      let caught: unknown;
      try {
        params.require(name);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PluraError);
      expect(caught).toMatchObject({ code: 'invalid_input', message: `Please specify a value for '${name}'.` });
    }
  });

  it('getList reads name[]=, name[0]= and comma lists', () => {
    expect(parseMatomoParams({ 'ids[]': ['1', '2'] }, {}).getList('ids')).toEqual(['1', '2']);
    expect(parseMatomoParams({ 'ids[0]': '1', 'ids[1]': '2' }, {}).getList('ids')).toEqual(['1', '2']);
    expect(parseMatomoParams({ ids: '1, 2,,3 ' }, {}).getList('ids')).toEqual(['1', '2', '3']);
    expect(parseMatomoParams({}, {}).getList('ids')).toEqual([]);
    expect(parseMatomoParams({ ids: '' }, {}).getList('ids')).toEqual([]);
  });

  it('getList takes the body list over the query one', () => {
    expect(parseMatomoParams({ ids: '1,2' }, { 'ids[]': ['3', '4'] }).getList('ids')).toEqual(['3', '4']);
  });

  it('getAll returns every value without splitting on commas', () => {
    expect(parseMatomoParams({ urls: 'a,b' }, {}).getAll('urls')).toEqual(['a,b']);
    expect(parseMatomoParams({ 'urls[]': ['a,b', 'c'] }, {}).getAll('urls')).toEqual(['a,b', 'c']);
    expect(parseMatomoParams({ 'urls[0]': 'x', 'urls[1]': 'y,z' }, {}).getAll('urls')).toEqual(['x', 'y,z']);
    expect(parseMatomoParams({}, {}).getAll('urls')).toEqual([]);
  });

  it('getBool reads 1/true as true, 0/false/empty as false, and falls back otherwise', () => {
    const params = parseMatomoParams({ a: '1', b: 'true', c: 'TRUE', d: '0', e: 'false', f: 'yes', g: '' }, {});
    expect(params.getBool('a', false)).toBe(true);
    expect(params.getBool('b', false)).toBe(true);
    expect(params.getBool('c', false)).toBe(true);
    expect(params.getBool('d', true)).toBe(false);
    expect(params.getBool('e', true)).toBe(false);
    expect(params.getBool('f', true)).toBe(true);
    expect(params.getBool('f', false)).toBe(false);
    expect(params.getBool('g', true)).toBe(false);
    expect(params.getBool('missing', true)).toBe(true);
    expect(params.getBool('missing', false)).toBe(false);
  });

  it('getInt reads whole numbers and is undefined when absent or empty', () => {
    const params = parseMatomoParams({ a: '42', b: '-3', c: '', d: '007' }, {});
    expect(params.getInt('a')).toBe(42);
    expect(params.getInt('b')).toBe(-3);
    expect(params.getInt('c')).toBeUndefined();
    expect(params.getInt('d')).toBe(7);
    expect(params.getInt('missing')).toBeUndefined();
  });

  it('getInt throws a PluraError naming the parameter for a non-integer', () => {
    const params = parseMatomoParams({ idSite: '1.5', limit: 'abc', filter_limit: '1e3', offset: '99999999999999999999' }, {});
    for (const name of ['idSite', 'limit', 'filter_limit', 'offset']) {
      let caught: unknown;
      try {
        params.getInt(name);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PluraError);
      expect((caught as PluraError).code).toBe('invalid_input');
      expect((caught as PluraError).message).toContain(`'${name}'`);
    }
  });
});

describe('parseMatomoQueryString', () => {
  it('reads a bulk request url as GET parameters', () => {
    const params = parseMatomoQueryString('?a=1&b=2');
    expect(params.get('a')).toBe('1');
    expect(params.get('b')).toBe('2');
    expect(params.entries()).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('works without the leading ? and decodes values', () => {
    const params = parseMatomoQueryString('method=SitesManager.getSiteFromId&name=caf%C3%A9+bar&segment=browserCode%3D%3DFF');
    expect(params.get('method')).toBe('SitesManager.getSiteFromId');
    expect(params.get('name')).toBe('café bar');
    expect(params.get('segment')).toBe('browserCode==FF');
  });

  it('reads lists and repeated names', () => {
    expect(parseMatomoQueryString('?ids[]=1&ids[]=2').getList('ids')).toEqual(['1', '2']);
    expect(parseMatomoQueryString('?ids%5B0%5D=1&ids%5B1%5D=2').getList('ids')).toEqual(['1', '2']);
    const repeated = parseMatomoQueryString('?a=1&a=2');
    expect(repeated.getAll('a')).toEqual(['1', '2']);
    expect(repeated.getList('a')).toEqual(['1', '2']);
    // PHP keeps the last value of a repeated plain name.
    expect(repeated.get('a')).toBe('2');
    // A list reads as its first item.
    expect(parseMatomoQueryString('?ids[]=7&ids[]=8').get('ids')).toBe('7');
  });

  it('never treats a token in the url as secure', () => {
    expect(parseMatomoQueryString('?token_auth=abc').tokenAuth).toEqual({ value: 'abc', secure: false });
    expect(parseMatomoQueryString('').tokenAuth).toBeUndefined();
  });
});
