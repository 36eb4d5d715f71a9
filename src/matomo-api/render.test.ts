import { describe, expect, it } from 'vitest';
import { parseMatomoFormat, renderMatomoError, renderMatomoResult, type MatomoFormat } from './render.js';

const XML_HEADER = '<?xml version="1.0" encoding="utf-8" ?>';

function text(body: string | Buffer): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

describe('parseMatomoFormat', () => {
  it('defaults to xml when absent or empty', () => {
    expect(parseMatomoFormat(undefined)).toBe('xml');
    expect(parseMatomoFormat('')).toBe('xml');
  });

  it('is case-insensitive and knows every Matomo format', () => {
    expect(parseMatomoFormat('JSON')).toBe('json');
    expect(parseMatomoFormat('Xml')).toBe('xml');
    expect(parseMatomoFormat('cSv')).toBe('csv');
    expect(parseMatomoFormat('TSV')).toBe('tsv');
    expect(parseMatomoFormat('html')).toBe('html');
    expect(parseMatomoFormat('original')).toBe('original');
  });

  it('returns undefined for an unknown format', () => {
    expect(parseMatomoFormat('yaml')).toBeUndefined();
    expect(parseMatomoFormat('json2')).toBeUndefined();
  });
});

describe('renderMatomoResult: void and scalars', () => {
  it('renders void as Matomo success in JSON', () => {
    for (const value of [null, undefined]) {
      const response = renderMatomoResult(value, 'json');
      expect(response.status).toBe(200);
      expect(response.body).toBe('{"result":"success","message":"ok"}');
      expect(response.contentType).toBe('application/json; charset=utf-8');
    }
  });

  it('renders void as <success message="ok" /> in XML', () => {
    const response = renderMatomoResult(null, 'xml');
    expect(response.body).toBe(`${XML_HEADER}\n<result>\n\t<success message="ok" />\n</result>`);
    expect(response.contentType).toBe('text/xml; charset=utf-8');
  });

  it('renders void as message/ok in CSV and as a comment in HTML', () => {
    expect(renderMatomoResult(null, 'csv', { convertToUnicode: false }).body).toBe('message\nok');
    expect(renderMatomoResult(null, 'html').body).toBe('<!-- Success: ok -->');
  });

  it('renders scalars as {"value":X} in JSON', () => {
    expect(renderMatomoResult(5, 'json').body).toBe('{"value":5}');
    expect(renderMatomoResult('abc', 'json').body).toBe('{"value":"abc"}');
    expect(renderMatomoResult(true, 'json').body).toBe('{"value":true}');
    expect(renderMatomoResult(0, 'json').body).toBe('{"value":0}');
  });

  it('renders scalars as <result>X</result> in XML, escaped, booleans as 1/0', () => {
    expect(renderMatomoResult(5, 'xml').body).toBe(`${XML_HEADER}\n<result>5</result>`);
    expect(renderMatomoResult(true, 'xml').body).toBe(`${XML_HEADER}\n<result>1</result>`);
    expect(renderMatomoResult(false, 'xml').body).toBe(`${XML_HEADER}\n<result>0</result>`);
    expect(renderMatomoResult('a<b & "c"', 'xml').body).toBe(`${XML_HEADER}\n<result>a&lt;b &amp; &quot;c&quot;</result>`);
  });

  it('renders a scalar in CSV as a value column', () => {
    expect(renderMatomoResult(42, 'csv', { convertToUnicode: false }).body).toBe('value\n42');
  });
});

describe('renderMatomoResult: structured values', () => {
  it('renders lists and objects as plain JSON', () => {
    const rows = [{ label: 'a', nb_visits: 1 }, { label: 'b', nb_visits: 2 }];
    expect(JSON.parse(text(renderMatomoResult(rows, 'json').body))).toEqual(rows);
    expect(JSON.parse(text(renderMatomoResult({ idsite: 1, name: 'x' }, 'json').body))).toEqual({ idsite: 1, name: 'x' });
    expect(renderMatomoResult([], 'json').body).toBe('[]');
  });

  it('renders a list of rows as <row> elements in XML', () => {
    const body = renderMatomoResult([{ label: 'a', nb_visits: 1 }, { label: 'b', nb_visits: 2 }], 'xml').body;
    expect(body).toBe(
      `${XML_HEADER}\n<result>\n` +
        '\t<row>\n\t\t<label>a</label>\n\t\t<nb_visits>1</nb_visits>\n\t</row>\n' +
        '\t<row>\n\t\t<label>b</label>\n\t\t<nb_visits>2</nb_visits>\n\t</row>\n' +
        '</result>',
    );
  });

  it('renders a list of scalars as <row>value</row>', () => {
    expect(renderMatomoResult(['x', 'y&z'], 'xml').body).toBe(`${XML_HEADER}\n<result>\n\t<row>x</row>\n\t<row>y&amp;z</row>\n</result>`);
  });

  it('renders keys that are not XML names as <row key="...">', () => {
    const body = text(renderMatomoResult({ '1': { name: 'One' }, '2': { name: 'Two' } }, 'xml').body);
    expect(body).toBe(
      `${XML_HEADER}\n<result>\n` +
        '\t<row key="1">\n\t\t<name>One</name>\n\t</row>\n' +
        '\t<row key="2">\n\t\t<name>Two</name>\n\t</row>\n' +
        '</result>',
    );
    const dated = text(renderMatomoResult({ '2010-03-06': 5 }, 'xml').body);
    expect(dated).toContain('\t<row key="2010-03-06">5</row>\n');
  });

  it('escapes text and attribute values in XML', () => {
    const body = text(renderMatomoResult([{ label: `<script>alert('x')</script> & "q"` }], 'xml').body);
    expect(body).toContain('<label>&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;</label>');
    expect(body).not.toContain('<script>');
    const keyed = text(renderMatomoResult({ 'a "b"<': 1 }, 'xml').body);
    expect(keyed).toContain('<row key="a &quot;b&quot;&lt;">1</row>');
  });

  it('renders nested objects inside a row as nested elements', () => {
    const body = text(renderMatomoResult([{ label: 'a', goals: { idgoal_1: { nb_conversions: 3 } } }], 'xml').body);
    expect(body).toContain('\t\t<goals>\n\t\t\t<idgoal_1>\n\t\t\t\t<nb_conversions>3</nb_conversions>\n\t\t\t</idgoal_1>\n\t\t</goals>\n');
  });
});

describe('renderMatomoResult: csv and tsv', () => {
  it('uses the union of row keys as the header, in first-seen order', () => {
    const body = renderMatomoResult(
      [
        { label: 'a', nb_visits: 1 },
        { label: 'b', nb_actions: 4 },
      ],
      'csv',
      { convertToUnicode: false },
    ).body;
    expect(body).toBe('label,nb_visits,nb_actions\na,1,\nb,,4');
  });

  it('flattens nested objects to key_subkey and lists to key_index', () => {
    const body = renderMatomoResult([{ label: 'a', goals: { g1: { conv: 2 } }, tags: ['x', 'y'] }], 'csv', { convertToUnicode: false }).body;
    expect(body).toBe('label,goals_g1_conv,tags_0,tags_1\na,2,x,y');
  });

  it('leads keyed objects (multi-site, multi-period) with a key column', () => {
    const body = renderMatomoResult({ '1': { nb_visits: 3 }, '2': [{ nb_visits: 4 }, { nb_visits: 5 }] }, 'csv', { convertToUnicode: false }).body;
    expect(body).toBe('key,nb_visits\n1,3\n2,4\n2,5');
  });

  it('quotes CSV cells holding separators, quotes or newlines', () => {
    const body = renderMatomoResult([{ label: 'He said "hi", twice\nok' }], 'csv', { convertToUnicode: false }).body;
    expect(body).toBe('label\n"He said ""hi"", twice\nok"');
  });

  it('separates TSV with tabs, turns tabs inside cells to spaces and quotes line breaks', () => {
    const body = renderMatomoResult(
      [
        { label: 'a\tb', n: 1 },
        { label: 'c\nd', n: 2 },
      ],
      'tsv',
      { convertToUnicode: false },
    ).body;
    expect(body).toBe('label\tn\na b\t1\n"c\nd"\t2');
  });

  it('renders a single object as one row', () => {
    expect(renderMatomoResult({ nb_visits: 3, nb_uniq_visitors: 2 }, 'csv', { convertToUnicode: false }).body).toBe('nb_visits,nb_uniq_visitors\n3,2');
  });

  it('is UTF-16LE with a BOM by default', () => {
    const response = renderMatomoResult([{ label: 'café' }], 'csv');
    expect(Buffer.isBuffer(response.body)).toBe(true);
    const body = response.body as Buffer;
    expect([body[0], body[1]]).toEqual([0xff, 0xfe]);
    expect(body.subarray(2).toString('utf16le')).toBe('label\ncafé');
    const tsv = renderMatomoResult([{ label: 'x' }], 'tsv', { convertToUnicode: true }).body as Buffer;
    expect(tsv.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]));
  });

  it('is a plain UTF-8 string with convertToUnicode: false', () => {
    const response = renderMatomoResult([{ label: 'café' }], 'csv', { convertToUnicode: false });
    expect(typeof response.body).toBe('string');
    expect(response.body).toBe('label\ncafé');
  });

  it('sends csv and tsv as an Excel attachment', () => {
    const csv = renderMatomoResult([{ a: 1 }], 'csv');
    expect(csv.contentType).toBe('application/vnd.ms-excel');
    expect(csv.headers['Content-Disposition']).toBe('attachment; filename=export.csv');
    const tsv = renderMatomoResult([{ a: 1 }], 'tsv', { filename: 'report.tsv' });
    expect(tsv.contentType).toBe('application/vnd.ms-excel');
    expect(tsv.headers['Content-Disposition']).toBe('attachment; filename=report.tsv');
  });
});

describe('renderMatomoResult: html and JSONP', () => {
  it('renders html escaped with the html content type', () => {
    const response = renderMatomoResult([{ label: '<b>' }], 'html');
    expect(response.contentType).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('&lt;b&gt;');
    expect(response.body).not.toContain('<b>');
  });

  it('wraps JSON in a safe callback', () => {
    for (const callback of ['cb', 'jQuery123_456', '$.handlers.done']) {
      const response = renderMatomoResult({ value: 1 }, 'json', { callback });
      expect(response.body).toBe(`${callback}({"value":1})`);
      expect(response.contentType).toContain('javascript');
    }
  });

  it('ignores a callback that is not a safe name', () => {
    for (const callback of ['alert(1)//', 'a b', '1abc', '<script>', 'x;y', 'cb()']) {
      const response = renderMatomoResult(5, 'json', { callback });
      expect(response.body).toBe('{"value":5}');
      expect(response.contentType).toBe('application/json; charset=utf-8');
    }
  });
});

describe('renderMatomoError', () => {
  it('renders JSON errors with newlines turned to spaces', () => {
    const response = renderMatomoError('First line\nsecond line', 'json', 200);
    expect(response.status).toBe(200);
    expect(response.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(text(response.body))).toEqual({ result: 'error', message: 'First line second line' });
    expect(text(response.body)).toBe('{"result":"error","message":"First line second line"}');
  });

  it('keeps the given HTTP status', () => {
    expect(renderMatomoError('No access', 'json', 401).status).toBe(401);
    expect(renderMatomoError('No access', 'xml', 401).status).toBe(401);
    expect(renderMatomoError('No access', 'csv', 401).status).toBe(401);
  });

  it('renders XML errors as an escaped <error message=...>', () => {
    const response = renderMatomoError('Bad "id" <1> & more\nlines', 'xml', 200);
    expect(response.contentType).toBe('text/xml; charset=utf-8');
    expect(response.body).toBe(`${XML_HEADER}\n<result>\n\t<error message="Bad &quot;id&quot; &lt;1&gt; &amp; more lines" />\n</result>`);
  });

  it('renders CSV and TSV errors as plain "Error: ..." text/html', () => {
    for (const format of ['csv', 'tsv'] as MatomoFormat[]) {
      const response = renderMatomoError('Something broke', format, 200);
      expect(response.body).toBe('Error: Something broke');
      expect(response.contentType).toBe('text/html; charset=utf-8');
    }
  });

  it('escapes html errors and turns line breaks into <br />', () => {
    const response = renderMatomoError('<img src=x>\nnext', 'html', 200);
    expect(response.body).toBe('&lt;img src=x&gt;<br />\nnext');
    expect(response.contentType).toBe('text/html; charset=utf-8');
  });

  it('wraps JSON errors in a safe callback only', () => {
    expect(renderMatomoError('oops', 'json', 200, { callback: 'cb' }).body).toBe('cb({"result":"error","message":"oops"})');
    expect(renderMatomoError('oops', 'json', 200, { callback: 'alert(1)' }).body).toBe('{"result":"error","message":"oops"}');
  });
});
