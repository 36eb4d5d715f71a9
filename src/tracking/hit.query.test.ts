import { describe, expect, it } from 'vitest';
import { paramsOf } from './hit.js';

/** The fast query parser must read every string exactly as URLSearchParams does. */
describe('query strings of hits', () => {
  const cases = [
    'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F%3Fa%3Db&action_name=Caf%C3%A9+au+lait',
    'a=1&a=2&b=&c&&d=x=y',
    'e_n=100%25+sure&plus=%2B&space=a+b',
    'bad=%E0%A4%A&ok=1',
    'broken=%ZZ&lone=%',
    'emoji=%F0%9F%98%80&cjk=%E4%B8%AD',
    '=novalue&key=',
    'k%5B%5D=1&k%5B%5D=2',
  ];
  for (const query of cases) {
    it(`reads "${query}" like URLSearchParams`, () => {
      const expected = new Map<string, string>();
      for (const [key, value] of new URLSearchParams(query)) if (!expected.has(key)) expected.set(key, value);
      expect(paramsOf({ q: query })).toEqual(expected);
      expect(paramsOf({ b: `?${query}` })).toEqual(expected);
    });
  }

  it('lets the query string win over the form body', () => {
    expect(paramsOf({ q: 'a=get&b=1', f: 'a=post&c=2' })).toEqual(new Map([['a', 'get'], ['b', '1'], ['c', '2']]));
  });

  it("reads the text in the page's charset when cs names one (Matomo's cs)", () => {
    const latin1 = paramsOf({ q: 'idsite=1&cs=ISO-8859-1&action_name=Caf%E9+cr%E8me&url=https%3A%2F%2Fx.example%2F%E9t%E9' });
    expect(latin1?.get('action_name')).toBe('Café crème');
    expect(latin1?.get('url')).toBe('https://x.example/été');
    expect(paramsOf({ b: '?idsite=1&cs=ISO-8859-15&e_n=%A4+100' })?.get('e_n')).toBe('€ 100');
    expect(paramsOf({ q: 'cs=Shift_JIS&action_name=%82%A0' })?.get('action_name')).toBe('あ');
    expect(paramsOf({ q: 'cs=utf-8&t=Caf%C3%A9' })?.get('t')).toBe('Café');
    expect(paramsOf({ q: 'cs=no-such-charset&t=Caf%C3%A9' })?.get('t')).toBe('Café');
  });
});
