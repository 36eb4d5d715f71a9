import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';

const source = readFileSync(new URL('./tracker.js', import.meta.url), 'utf8');
const PAGE = 'https://shop.example.com/products/42?color=red';

type Command = readonly unknown[];
type Params = Record<string, string>;

/** The few DOM element features the tracker uses: attributes, parent links, attribute selectors, href/src. */
class FakeElement {
  parentNode: FakeElement | null = null;
  readonly children: FakeElement[];

  constructor(
    readonly tagName: string,
    private readonly attrs: Record<string, string> = {},
    children: FakeElement[] = [],
  ) {
    this.children = children;
    for (const child of children) child.parentNode = this;
  }

  getAttribute(name: string): string | null {
    return name in this.attrs ? (this.attrs[name] ?? null) : null;
  }

  hasAttribute(name: string): boolean {
    return name in this.attrs;
  }

  get href(): string | undefined {
    const href = this.attrs.href;
    if (!/^(A|AREA)$/.test(this.tagName)) return undefined;
    return href === undefined ? '' : new URL(href, PAGE).href;
  }

  get src(): string | undefined {
    const src = this.attrs.src;
    return src === undefined ? undefined : new URL(src, PAGE).href;
  }

  querySelectorAll(selector: string): FakeElement[] {
    const match = /^\[([\w-]+)\]$/.exec(selector);
    if (!match) throw new Error(`unsupported selector ${selector}`);
    const name = match[1] ?? '';
    const out: FakeElement[] = [];
    const walk = (el: FakeElement): void => {
      for (const child of el.children) {
        if (child.hasAttribute(name)) out.push(child);
        walk(child);
      }
    };
    walk(this);
    return out;
  }
}

const el = (tag: string, attrs: Record<string, string> = {}, ...children: FakeElement[]): FakeElement =>
  new FakeElement(tag.toUpperCase(), attrs, children);

interface StoredCookie {
  value: string;
  expires: number;
}

interface BrowserOptions {
  href?: string;
  title?: string;
  referrer?: string;
  cookies?: Record<string, string>;
  paq?: Command[];
  doNotTrack?: string;
  beacon?: 'ok' | 'refuse' | 'missing' | 'throw';
  body?: FakeElement;
  visibility?: 'visible' | 'hidden';
  timing?: Record<string, number>;
  script?: string;
}

type Listener = (event: Record<string, unknown>) => void;

/** The tracker methods the tests call directly (the rest go through _paq). */
interface Tracker {
  getSiteId(): string;
  getVisitorId(): string;
  getUserId(): string;
  getCustomDimension(id: number): string | undefined;
  isConsentRequired(): boolean;
  trackGoal(idGoal: number, revenue?: number): void;
}

/** A minimal browser global (window/document/navigator/screen) the tracker script runs in. */
function browser(options: BrowserOptions = {}) {
  const beacons: string[] = [];
  const fetches: string[] = [];
  const cookieWrites: string[] = [];
  const jar = new Map<string, StoredCookie>();
  for (const [name, value] of Object.entries(options.cookies ?? {})) jar.set(name, { value, expires: Infinity });
  const docListeners = new Map<string, Listener[]>();
  const winListeners = new Map<string, Listener[]>();
  const timers = new Map<number, () => void>();
  let timerId = 0;
  const location = new URL(options.href ?? PAGE);
  const body = options.body ?? el('body');
  const state = { visibility: options.visibility ?? 'visible', focus: true };

  const document = {
    title: options.title ?? 'Product 42',
    referrer: options.referrer ?? 'https://search.example.org/?q=shoes',
    readyState: 'complete',
    get visibilityState() {
      return state.visibility;
    },
    hasFocus: () => state.focus,
    get cookie() {
      const now = Date.now();
      return [...jar.entries()]
        .filter(([, c]) => c.expires > now)
        .map(([name, c]) => `${name}=${c.value}`)
        .join('; ');
    },
    set cookie(raw: string) {
      cookieWrites.push(raw);
      const [pair = '', ...attrs] = raw.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expiresAttr = attrs.find((a) => a.toLowerCase().startsWith('expires='));
      const expires = expiresAttr ? Date.parse(expiresAttr.slice(8)) : Infinity;
      if (expires <= Date.now()) jar.delete(name);
      else jar.set(name, { value: pair.slice(eq + 1), expires });
    },
    addEventListener: (type: string, fn: Listener) => docListeners.set(type, [...(docListeners.get(type) ?? []), fn]),
    removeEventListener: (type: string, fn: Listener) => docListeners.set(type, (docListeners.get(type) ?? []).filter((f) => f !== fn)),
    querySelectorAll: (selector: string) => body.querySelectorAll(selector),
  };
  const navigator: Record<string, unknown> = { cookieEnabled: true, userAgent: 'FakeBrowser/1.0' };
  if (options.doNotTrack !== undefined) navigator.doNotTrack = options.doNotTrack;
  const beacon = options.beacon ?? 'ok';
  if (beacon !== 'missing') {
    navigator.sendBeacon = (url: string) => {
      if (beacon === 'throw') throw new Error('beacon broken');
      if (beacon === 'refuse') return false;
      beacons.push(url);
      return true;
    };
  }
  const timing = options.timing;
  const window: Record<string, unknown> = {
    document,
    navigator,
    location,
    screen: { width: 1920, height: 1080 },
    crypto: webcrypto,
    URL,
    performance: timing ? { getEntriesByType: (type: string) => (type === 'navigation' ? [timing] : []) } : undefined,
    fetch: (url: string) => {
      fetches.push(url);
      return Promise.resolve({});
    },
    setTimeout: (fn: () => void) => {
      timers.set(++timerId, fn);
      return timerId;
    },
    clearTimeout: (id: number) => timers.delete(id),
    addEventListener: (type: string, fn: Listener) => winListeners.set(type, [...(winListeners.get(type) ?? []), fn]),
  };
  window.window = window;
  if (options.paq) window._paq = options.paq;
  vm.createContext(window);
  vm.runInContext(options.script ?? source, window);

  const paramsOf = (url: string): Params => Object.fromEntries(new URL(url).searchParams);
  return {
    window,
    document,
    jar,
    cookieWrites,
    beacons,
    fetches,
    state,
    sent: (): Params[] => beacons.map(paramsOf),
    last: (): Params => paramsOf(beacons.at(-1) ?? 'https://none.invalid/'),
    push: (...commands: Command[]): void => {
      (window._paq as { push: (...c: Command[]) => unknown }).push(...commands);
    },
    tracker: (): Tracker => (window.Matomo as { getAsyncTracker: () => Tracker }).getAsyncTracker(),
    /** Fires the pending timers once (a timer re-armed while running waits for the next call). */
    tick: (): void => {
      const due = [...timers.entries()];
      for (const [id, fn] of due) {
        timers.delete(id);
        fn();
      }
    },
    fire: (type: string, event: Record<string, unknown> = {}): void => {
      for (const fn of docListeners.get(type) ?? []) fn({ type, ...event });
    },
    fireWindow: (type: string): void => {
      for (const fn of winListeners.get(type) ?? []) fn({ type });
    },
  };
}

const setup: Command[] = [
  ['setTrackerUrl', 'https://plura.example.net/matomo.php'],
  ['setSiteId', '1'],
];
const loaded = (options: BrowserOptions = {}, ...commands: Command[]) => browser({ ...options, paq: [...setup, ...commands] });

describe('Plura browser tracker', () => {
  it('runs queued _paq commands at load with setTrackerUrl/setSiteId first, then push() runs immediately', () => {
    const b = browser({ paq: [['setDocumentTitle', 'Custom'], ['trackPageView'], ['setSiteId', 7], ['setTrackerUrl', 'https://t.example.net/matomo.php']] });
    expect(b.beacons).toHaveLength(1);
    expect(b.beacons[0]?.startsWith('https://t.example.net/matomo.php?')).toBe(true);
    expect(b.last()).toMatchObject({ idsite: '7', action_name: 'Custom' });
    b.push(['trackEvent', 'Video', 'Play']);
    expect(b.beacons).toHaveLength(2);
    const receivers: unknown[] = [];
    b.push([
      function (this: unknown) {
        receivers.push(this);
      },
    ]);
    expect(receivers).toEqual([b.tracker()]);
    expect(b.window.Matomo).toBe(b.window.Piwik);
    expect(b.tracker().getSiteId()).toBe('7');
  });

  it('sends a pageview with the Matomo 5 parameter set, in the query string of a beacon', () => {
    const timing = { fetchStart: 5, connectEnd: 25, requestStart: 30, responseStart: 130, responseEnd: 160, domInteractive: 400, domComplete: 900, loadEventStart: 905, loadEventEnd: 915 };
    const b = loaded({ timing }, ['trackPageView']);
    expect(b.beacons).toHaveLength(1);
    const p = b.last();
    expect(Object.keys(p).sort()).toEqual(
      ['action_name', 'idsite', 'rec', 'r', 'h', 'm', 's', 'url', 'urlref', '_id', '_idn', 'send_image', 'cookie', 'res', 'pv_id',
        'pf_net', 'pf_srv', 'pf_tfr', 'pf_dm1', 'pf_dm2', 'pf_onl'].sort(),
    );
    expect(p).toMatchObject({
      action_name: 'Product 42',
      idsite: '1',
      rec: '1',
      url: PAGE,
      urlref: 'https://search.example.org/?q=shoes',
      _idn: '1',
      send_image: '0',
      cookie: '1',
      res: '1920x1080',
      pf_net: '20',
      pf_srv: '100',
      pf_tfr: '30',
      pf_dm1: '240',
      pf_dm2: '500',
      pf_onl: '10',
    });
    expect(p.r).toMatch(/^\d{6}$/);
    expect(p._id).toMatch(/^[0-9a-f]{16}$/);
    expect(p.pv_id).toMatch(/^[A-Za-z0-9]{6}$/);
    for (const k of ['h', 'm', 's']) expect(Number(p[k])).toBeGreaterThanOrEqual(0);
    // Performance timings go with the first pageview only.
    b.push(['trackPageView', 'Second']);
    expect(b.last().action_name).toBe('Second');
    expect(b.last().pf_net).toBeUndefined();
  });

  it('reuses pv_id for events of the page and renews it per pageview', () => {
    const b = loaded({}, ['trackPageView']);
    b.push(['trackEvent', 'Video', 'Play', 'Intro', '12.5'], ['trackEvent', 'Video', ''], ['trackEvent', 'Video', 'Pause']);
    const [pv, event, bare] = b.sent();
    expect(b.beacons).toHaveLength(3);
    expect(event).toMatchObject({ e_c: 'Video', e_a: 'Play', e_n: 'Intro', e_v: '12.5', pv_id: pv?.pv_id, _idn: '0' });
    expect(event?.action_name).toBeUndefined();
    expect(bare?.e_n).toBeUndefined();
    expect(bare?.e_v).toBeUndefined();
    b.push(['trackPageView']);
    expect(b.last().pv_id).not.toBe(pv?.pv_id);
    expect(b.last()._id).toBe(pv?._id);
  });

  it('tracks goals, site searches, links and downloads', () => {
    const b = loaded();
    b.push(
      ['trackGoal', 3, 9.99],
      ['trackSiteSearch', 'red shoes', 'Shoes', 12],
      ['trackSiteSearch', 'hats', false, 0],
      ['trackLink', 'https://elsewhere.example.org/', 'link'],
      ['trackLink', 'https://shop.example.com/catalog.pdf', 'download'],
    );
    const [goal, search, search2, link, download] = b.sent();
    expect(goal).toMatchObject({ idgoal: '3', revenue: '9.99' });
    expect(search).toMatchObject({ search: 'red shoes', search_cat: 'Shoes', search_count: '12' });
    expect(search2?.search_cat).toBeUndefined();
    expect(search2?.search_count).toBe('0');
    expect(link).toMatchObject({ link: 'https://elsewhere.example.org/', url: PAGE });
    expect(link?.download).toBeUndefined();
    expect(download).toMatchObject({ download: 'https://shop.example.com/catalog.pdf' });
  });

  it('tracks ecommerce orders, cart updates and product views', () => {
    const b = loaded();
    b.push(
      ['setEcommerceView', 'SKU1', 'Shoe', ['Shoes', 'Red'], 49.5],
      ['trackPageView'],
      ['addEcommerceItem', 'SKU1', 'Shoe', 'Shoes', 49.5, 2],
      ['addEcommerceItem', 'SKU2', 'Sock', 'Socks', '3', 1],
      ['addEcommerceItem', 'SKU2', 'Sock', 'Socks', '3', 3],
      ['trackEcommerceCartUpdate', 108],
      ['trackEcommerceOrder', 'A-1000', 118, 108, 9.5, 5.5, 5],
      ['trackEcommerceCartUpdate', 0],
    );
    const [view, cart, order, emptied] = b.sent();
    expect(view).toMatchObject({ _pks: 'SKU1', _pkn: 'Shoe', _pkc: '["Shoes","Red"]', _pkp: '49.5' });
    const items = '[["SKU1","Shoe","Shoes",49.5,2],["SKU2","Sock","Socks",3,3]]';
    expect(cart).toMatchObject({ idgoal: '0', revenue: '108', ec_items: items });
    expect(order).toMatchObject({ idgoal: '0', ec_id: 'A-1000', revenue: '118', ec_st: '108', ec_tx: '9.5', ec_sh: '5.5', ec_dt: '5', ec_items: items });
    expect(emptied).toMatchObject({ idgoal: '0', revenue: '0', ec_items: '[]' });
    b.push(['trackPageView']);
    expect(b.last()._pks).toBeUndefined();
  });

  it('sends custom dimensions and the user id on every request until removed', () => {
    const b = loaded();
    const t = b.tracker();
    b.push(['setCustomDimension', 1, 'gold'], ['setCustomDimension', '4', 'de'], ['setUserId', 'user@example.com'], ['trackPageView']);
    expect(b.last()).toMatchObject({ dimension1: 'gold', dimension4: 'de', uid: 'user@example.com' });
    expect(t.getCustomDimension(1)).toBe('gold');
    expect(t.getUserId()).toBe('user@example.com');
    b.push(['deleteCustomDimension', 1], ['resetUserId'], ['trackEvent', 'a', 'b']);
    expect(b.last().dimension1).toBeUndefined();
    expect(b.last().dimension4).toBe('de');
    expect(b.last().uid).toBeUndefined();
    expect(t.getCustomDimension(1)).toBeUndefined();
    expect(t.getUserId()).toBe('');
    b.push(['trackPageView', 'Dims', { dimension2: 'inline' }]);
    expect(b.last()).toMatchObject({ action_name: 'Dims', dimension2: 'inline' });
  });

  it('honours setCustomUrl, setDocumentTitle and setReferrerUrl', () => {
    const b = loaded({}, ['setCustomUrl', '/virtual/page'], ['setDocumentTitle', 'Virtual'], ['setReferrerUrl', 'https://ref.example.org/'], ['trackPageView']);
    expect(b.last()).toMatchObject({ url: 'https://shop.example.com/virtual/page', action_name: 'Virtual', urlref: 'https://ref.example.org/' });
  });

  it('writes first-party _pk_id and _pk_ses cookies and keeps the visitor id stable', () => {
    const b = loaded({}, ['trackPageView']);
    const t = b.tracker();
    const id = t.getVisitorId();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(t.getVisitorId()).toBe(id);
    expect(b.last()._id).toBe(id);
    const names = [...b.jar.keys()];
    const idName = names.find((n) => n.startsWith('_pk_id.'));
    const sesName = names.find((n) => n.startsWith('_pk_ses.'));
    expect(idName).toMatch(/^_pk_id\.1\.[0-9a-f]{4}$/);
    expect(sesName).toBe(idName?.replace('_pk_id', '_pk_ses'));
    const stored = b.jar.get(idName ?? '');
    expect(stored?.value).toMatch(new RegExp(`^${id}\\.\\d{10}$`));
    const createdAt = Number(stored?.value.split('.')[1]);
    expect(Math.abs(createdAt - Date.now() / 1000)).toBeLessThan(5);
    const month = 30 * 864e5;
    expect((stored?.expires ?? 0) - Date.now()).toBeGreaterThan(12.9 * month);
    expect((stored?.expires ?? 0) - Date.now()).toBeLessThan(13.1 * month);
    expect(b.jar.get(sesName ?? '')?.value).toBe('1');
    expect((b.jar.get(sesName ?? '')?.expires ?? 0) - Date.now()).toBeLessThanOrEqual(30 * 60e3);
    const write = b.cookieWrites.find((c) => c.startsWith('_pk_id.')) ?? '';
    expect(write).toMatch(/; path=\/;/);
    expect(write).toMatch(/; SameSite=Lax$/);
    expect(write).toMatch(/; Secure;/);

    // A returning visitor keeps the id from the cookie.
    const again = loaded({ cookies: { [idName ?? '']: stored?.value ?? '' } }, ['trackPageView']);
    expect(again.last()._id).toBe(id);
    expect(again.last()._idn).toBe('0');
    expect(again.tracker().getVisitorId()).toBe(id);
  });

  it('uses a different cookie name hash per domain and keeps per-site cookies apart', () => {
    const a = loaded({ href: 'https://a.example.com/' }, ['trackPageView']);
    const b = loaded({ href: 'https://b.example.com/' }, ['trackPageView']);
    const other = browser({ paq: [['setTrackerUrl', 'https://t/matomo.php'], ['setSiteId', 2], ['trackPageView']], href: 'https://a.example.com/' });
    const name = (x: ReturnType<typeof browser>) => [...x.jar.keys()].find((n) => n.startsWith('_pk_id.')) ?? '';
    expect(name(a)).not.toBe(name(b));
    expect(name(other)).toBe(name(a).replace('_pk_id.1.', '_pk_id.2.'));
  });

  it('disableCookies deletes the cookies, sends cookie=0 and a fresh id per pageview', () => {
    const first = loaded({}, ['trackPageView']);
    const cookies = Object.fromEntries([...first.jar.entries()].map(([k, v]) => [k, v.value]));
    const b = loaded({ cookies }, ['disableCookies'], ['trackPageView'], ['trackEvent', 'c', 'a'], ['trackPageView']);
    expect([...b.jar.keys()].filter((k) => k.startsWith('_pk_'))).toEqual([]);
    const [pv1, event, pv2] = b.sent();
    expect(pv1?.cookie).toBe('0');
    expect(pv1?._id).toMatch(/^[0-9a-f]{16}$/);
    expect(pv1?._id).not.toBe(first.last()._id);
    expect(event?._id).toBe(pv1?._id);
    expect(pv2?._id).not.toBe(pv1?._id);
    // The only cookie writes are the deletions.
    expect(b.cookieWrites.filter((c) => /^_pk_\w+\.[^=]+=[^;]/.test(c))).toEqual([]);
  });

  it('requireConsent holds every request and cookie until consent is given', () => {
    const b = loaded({}, ['requireConsent'], ['trackPageView'], ['trackEvent', 'c', 'a']);
    expect(b.beacons).toEqual([]);
    expect(b.jar.size).toBe(0);
    expect(b.tracker().isConsentRequired()).toBe(true);
    b.push(['setConsentGiven']);
    expect(b.beacons).toHaveLength(2);
    expect(b.sent()[0]?.action_name).toBe('Product 42');
    expect(b.sent()[1]?.e_c).toBe('c');
    expect([...b.jar.keys()].some((k) => k.startsWith('_pk_id.1.'))).toBe(true);
    expect(b.jar.has('mtm_consent')).toBe(false);
  });

  it('remembers consent in mtm_consent and forgets it again', () => {
    const b = loaded({}, ['requireConsent'], ['trackPageView'], ['rememberConsentGiven']);
    expect(b.beacons).toHaveLength(1);
    const consent = b.jar.get('mtm_consent');
    expect(consent?.value).toMatch(/^\d{13}$/);
    const next = loaded({ cookies: { mtm_consent: consent?.value ?? '' } }, ['requireConsent'], ['trackPageView']);
    expect(next.beacons).toHaveLength(1);
    next.push(['forgetConsentGiven'], ['trackPageView']);
    expect(next.beacons).toHaveLength(1);
    expect(next.jar.has('mtm_consent')).toBe(false);
    expect([...next.jar.keys()].filter((k) => k.startsWith('_pk_'))).toEqual([]);
  });

  it('honours navigator.doNotTrack only when setDoNotTrack is on', () => {
    const honoured = loaded({ doNotTrack: '1' }, ['setDoNotTrack', true], ['trackPageView']);
    expect(honoured.beacons).toEqual([]);
    expect(honoured.jar.size).toBe(0);
    const ignored = loaded({ doNotTrack: '1' }, ['trackPageView']);
    expect(ignored.beacons).toHaveLength(1);
    const unset = loaded({ doNotTrack: 'unspecified' }, ['setDoNotTrack', true], ['trackPageView']);
    expect(unset.beacons).toHaveLength(1);
  });

  it('reads campaign name and keyword from the landing URL, with configurable keys', () => {
    const mtm = loaded({ href: 'https://shop.example.com/?mtm_campaign=Spring%20Sale&mtm_kwd=shoes' }, ['trackPageView']);
    expect(mtm.last()).toMatchObject({ _rcn: 'Spring Sale', _rck: 'shoes' });
    const utm = loaded({ href: 'https://shop.example.com/?utm_source=x&utm_campaign=news+letter&utm_term=hat' }, ['trackPageView']);
    expect(utm.last()).toMatchObject({ _rcn: 'news letter', _rck: 'hat' });
    const pk = loaded({ href: 'https://shop.example.com/#pk_campaign=Fragment' }, ['trackPageView']);
    expect(pk.last()._rcn).toBe('Fragment');
    const custom = loaded({ href: 'https://shop.example.com/?mtm_campaign=ignored&camp=Mine&kw=Key' }, ['setCampaignNameKey', 'camp'], ['setCampaignKeywordKey', ['kw']], ['trackPageView']);
    expect(custom.last()).toMatchObject({ _rcn: 'Mine', _rck: 'Key' });
    const none = loaded({}, ['trackPageView']);
    expect(none.last()._rcn).toBeUndefined();
  });

  it('enableLinkTracking reports outlinks and downloads from clicks', () => {
    const outlink = el('a', { href: 'https://partner.example.org/offer' }, el('span'));
    const ownLink = el('a', { href: '/cart' });
    const pdf = el('a', { href: '/files/catalog.PDF?v=2' });
    const forced = el('a', { href: '/export', class: 'btn matomo_download' });
    const ignored = el('a', { href: 'https://partner.example.org/', class: 'piwik_ignore' });
    const alias = el('a', { href: 'https://www.shop.example.com/about' });
    const b = loaded({}, ['enableLinkTracking']);
    const click = (target: FakeElement, button = 0, type = 'click') => b.fire(type, { target, button });
    click(outlink.children[0] as FakeElement);
    click(ownLink);
    click(pdf);
    click(forced, 1, 'auxclick');
    click(ignored);
    click(alias);
    click(outlink, 2, 'auxclick');
    expect(b.sent().map((p) => p.link ?? `download:${p.download}`)).toEqual([
      'https://partner.example.org/offer',
      'download:https://shop.example.com/files/catalog.PDF?v=2',
      'download:https://shop.example.com/export',
    ]);
    b.push(['enableLinkTracking', false]);
    click(outlink);
    expect(b.beacons).toHaveLength(3);
  });

  it('tracks content impressions from data-track-content blocks once per pageview', () => {
    const banner = el('div', { 'data-track-content': '', 'data-content-name': 'Spring banner' },
      el('img', { 'data-content-piece': '', src: '/img/spring.jpg' }),
      el('a', { href: '/spring', 'data-content-target': '' }));
    const teaser = el('section', { 'data-track-content': '', 'data-content-name': 'Teaser', 'data-content-piece': 'Text A', 'data-content-target': 'https://x.example.org/' });
    const bare = el('div', { 'data-track-content': '' });
    const body = el('body', {}, banner, el('div', {}, teaser), bare);
    const b = loaded({ body }, ['trackPageView'], ['trackAllContentImpressions']);
    const impressions = b.sent().slice(1);
    expect(impressions.map((p) => [p.c_n, p.c_p, p.c_t])).toEqual([
      ['Spring banner', 'https://shop.example.com/img/spring.jpg', 'https://shop.example.com/spring'],
      ['Teaser', 'Text A', 'https://x.example.org/'],
      ['Unknown', 'Unknown', undefined],
    ]);
    expect(impressions.every((p) => p.pv_id === b.sent()[0]?.pv_id)).toBe(true);
    b.push(['trackContentImpressionsWithinNode', body]);
    expect(b.beacons).toHaveLength(4);
    b.push(['trackContentImpressionsWithinNode', teaser.parentNode]);
    expect(b.beacons).toHaveLength(4);
    b.push(['trackPageView'], ['trackContentImpressionsWithinNode', teaser]);
    expect(b.last()).toMatchObject({ c_n: 'Teaser', c_p: 'Text A' });
    b.push(['trackContentInteractionNode', banner.children[1], 'click']);
    expect(b.last()).toMatchObject({ c_n: 'Spring banner', c_i: 'click' });
    b.push(['trackContentImpression', 'Manual', 'Piece', 'https://t.example.org/']);
    expect(b.last()).toMatchObject({ c_n: 'Manual', c_p: 'Piece', c_t: 'https://t.example.org/' });
  });

  it('sends heartbeat pings with the pageview id while the page is visible and focused', () => {
    const b = loaded({}, ['enableHeartBeatTimer', 10], ['trackPageView']);
    expect(b.beacons).toHaveLength(1);
    b.tick();
    expect(b.beacons).toHaveLength(2);
    expect(b.last()).toMatchObject({ ping: '1', pv_id: b.sent()[0]?.pv_id });
    expect(b.last().action_name).toBeUndefined();
    b.state.visibility = 'hidden';
    b.tick();
    b.tick();
    expect(b.beacons).toHaveLength(2);
    b.state.visibility = 'visible';
    b.state.focus = false;
    b.tick();
    expect(b.beacons).toHaveLength(2);
    b.state.focus = true;
    b.tick();
    expect(b.beacons).toHaveLength(3);

    const idle = loaded({}, ['enableHeartBeatTimer']);
    idle.tick();
    expect(idle.beacons).toEqual([]);
  });

  it('falls back to fetch when sendBeacon is missing, refuses or throws', () => {
    for (const beacon of ['missing', 'refuse', 'throw'] as const) {
      const b = loaded({ beacon }, ['trackPageView']);
      expect(b.fetches).toHaveLength(1);
      expect(new URL(b.fetches[0] ?? '').searchParams.get('action_name')).toBe('Product 42');
    }
  });

  it('never throws into the page', () => {
    const b = loaded({ beacon: 'throw' });
    b.window.fetch = () => {
      throw new Error('offline');
    };
    expect(() => b.push(['trackPageView'], ['noSuchMethod', 1], null as unknown as Command, ['trackEvent'])).not.toThrow();
  });

  it('provides getTracker and addTracker for more sites', () => {
    const b = loaded({}, ['addTracker', 'https://second.example.net/matomo.php', 5], ['trackPageView']);
    expect(b.beacons.map((u) => `${new URL(u).host}:${new URL(u).searchParams.get('idsite')}`)).toEqual([
      'plura.example.net:1',
      'second.example.net:5',
    ]);
    const matomo = b.window.Matomo as { getTracker: (u?: string, s?: number) => Tracker; getAsyncTracker: (u?: string, s?: number) => Tracker | undefined };
    const other = matomo.getTracker('https://third.example.net/piwik.php', 9);
    other.trackGoal(2);
    expect(b.last()).toMatchObject({ idgoal: '2', idsite: '9' });
    expect(b.beacons).toHaveLength(3);
    expect(matomo.getAsyncTracker('https://second.example.net/matomo.php', 5)?.getSiteId()).toBe('5');
  });

  it('stays within 15 kB minified and gzipped', async () => {
    const { code } = await transform(source, { minify: true, target: 'es2017', loader: 'js' });
    const gzipped = gzipSync(code, { level: 9 }).length;
    expect(gzipped).toBeLessThanOrEqual(15 * 1024);
    // The minified script still works.
    const b = browser({ script: code, paq: [...setup, ['trackPageView'], ['trackEvent', 'c', 'a']] });
    expect(b.sent().map((p) => p.action_name ?? p.e_c)).toEqual(['Product 42', 'c']);
  });
});
