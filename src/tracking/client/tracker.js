/*!
 * Plura browser tracker: a small first-party client for the Matomo Tracking HTTP API.
 * Written from the public JavaScript Tracking API documentation; no Matomo code is used.
 * Served as /plura.js, /matomo.js and /piwik.js. Exposes window._paq, window.Matomo, window.Piwik.
 */
/* global window, document, navigator, URL, setTimeout, clearTimeout, XMLHttpRequest, Image */
/* eslint-disable @typescript-eslint/no-unused-vars -- ES2017 has no optional catch binding */
(function () {
  'use strict';
  const w = window;
  if (w.Matomo && typeof w.Matomo.getTracker === 'function') return; // loaded already
  const d = document;
  const nav = navigator;
  const enc = encodeURIComponent;
  const HEX = '0123456789abcdef';
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const CONSENT = 'mtm_consent';
  const DAY = 864e5;
  const LANDING = w.location.href;
  const DOWNLOADS =
    '7z|aac|apk|arc|arj|asf|asx|avi|azw3|bin|bz|bz2|csv|deb|dmg|doc|docx|epub|exe|flac|flv|gz|gzip|hqx|ico|iso|jar|json|' +
    'm4a|m4v|md5|mobi|mov|mp2|mp3|mp4|mpeg|mpg|msi|msix|odb|odf|odg|odp|ods|odt|ogg|ogv|pdf|pkg|ppt|pptx|ps|qt|ra|ram|rar|' +
    'rpm|rtf|sea|sit|tar|tbz|tbz2|tgz|torrent|txt|wav|webm|wma|wmv|wpd|xls|xlsx|xml|xz|z|zip';

  const now = () => Date.now();
  const isFn = (v) => typeof v === 'function';
  const has = (v) => v !== undefined && v !== null && v !== '';
  const num = (v) => {
    const n = parseFloat(v);
    return isFinite(n) ? n : undefined;
  };
  const dec = (s) => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      return s;
    }
  };
  const abs = (u) => {
    try {
      return new URL(u, w.location.href).href;
    } catch (e) {
      return u;
    }
  };
  const rand = (len, chars) => {
    let bytes;
    try {
      bytes = w.crypto.getRandomValues(new Uint8Array(len));
    } catch (e) {
      bytes = null;
    }
    let out = '';
    for (let i = 0; i < len; i++) out += chars[(bytes ? bytes[i] : Math.floor(Math.random() * 256)) % chars.length];
    return out;
  };
  // 32-bit FNV-1a, first four hex digits: keeps cookie names of different domains/paths apart.
  const hash4 = (s) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return ('0000000' + (h >>> 0).toString(16)).slice(-8).slice(0, 4);
  };
  const bareHost = (h) => String(h || '').toLowerCase().replace(/^www\./, '');
  const getCookie = (name) => {
    const parts = String(d.cookie || '').split(';');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i].trim();
      if (p.indexOf(name + '=') === 0) return dec(p.slice(name.length + 1));
    }
    return null;
  };
  const setCookie = (name, value, ttl, path, domain) => {
    d.cookie =
      name + '=' + enc(value) + '; expires=' + new Date(now() + ttl).toUTCString() + '; path=' + (path || '/') +
      (domain ? '; domain=' + domain : '') + (w.location.protocol === 'https:' ? '; Secure' : '') + '; SameSite=Lax';
  };
  const urlParam = (url, key) => {
    const m = new RegExp('[?&#]' + key.replace(/[^\w-]/g, '\\$&') + '=([^&#]*)', 'i').exec(url);
    return m ? dec(m[1].replace(/\+/g, ' ')) : '';
  };
  const attr = (el, name) => (el && el.getAttribute && el.getAttribute(name)) || '';
  // The node itself (when it carries the attribute) and its descendants carrying it.
  const within = (node, name) => {
    const out = [];
    if (!node) return out;
    if (node.hasAttribute && node.hasAttribute(name)) out.push(node);
    if (node.querySelectorAll) out.push.apply(out, Array.prototype.slice.call(node.querySelectorAll('[' + name + ']')));
    return out;
  };
  const ready = (fn) => (d.readyState === 'loading' ? d.addEventListener('DOMContentLoaded', fn) : fn());
  const transport = (u) => {
    try {
      if (nav.sendBeacon && nav.sendBeacon(u)) return;
    } catch (e) {
      /* fall through */
    }
    try {
      if (w.fetch) {
        w.fetch(u, { method: 'GET', mode: 'no-cors', credentials: 'include', keepalive: true }).catch(() => {});
      } else {
        const x = new XMLHttpRequest();
        x.open('GET', u, true);
        x.withCredentials = true;
        x.send();
      }
    } catch (e) {
      try {
        new Image().src = u;
      } catch (e2) {
        /* nothing left to try */
      }
    }
  };
  // Navigation Timing (level 2 entry, else the legacy performance.timing), in milliseconds.
  const perf = () => {
    const out = {};
    try {
      const P = w.performance;
      const t = (P && P.getEntriesByType && P.getEntriesByType('navigation')[0]) || (P && P.timing);
      if (!t) return out;
      const span = (key, from, to) => {
        if (!(t[to] > 0) || !(t[from] > 0 || t[from] === 0)) return;
        const v = Math.round(t[to] - t[from]);
        if (v >= 0 && v < 36e5) out[key] = v;
      };
      span('pf_net', 'fetchStart', 'connectEnd');
      span('pf_srv', 'requestStart', 'responseStart');
      span('pf_tfr', 'responseStart', 'responseEnd');
      span('pf_dm1', 'responseEnd', 'domInteractive');
      span('pf_dm2', 'domInteractive', 'domComplete');
      span('pf_onl', 'loadEventStart', 'loadEventEnd');
    } catch (e) {
      /* no timing */
    }
    return out;
  };

  function createTracker(trackerUrl, siteId) {
    let url = trackerUrl || '';
    let site = has(siteId) ? String(siteId) : '';
    let customUrl = '';
    let title = '';
    let referrer = d.referrer || '';
    let userId = '';
    let dims = {};
    let noCookies = false;
    let cookieDomain = '';
    let cookiePath = '/';
    let consentRequired = false;
    let consentGiven = false;
    let pending = [];
    let honourDnt = false;
    let pvId = '';
    let visitorId = '';
    let visitorTs = 0;
    let items = [];
    let ecView = null;
    let perfSent = false;
    let nameKeys = ['pk_campaign', 'mtm_campaign', 'matomo_campaign', 'piwik_campaign', 'pk_cpn', 'mtm_cpn', 'utm_campaign'];
    let kwdKeys = ['pk_kwd', 'mtm_kwd', 'matomo_kwd', 'piwik_kwd', 'pk_keyword', 'mtm_keyword', 'utm_term'];
    let domains = [];
    let downloads = DOWNLOADS;
    let linkTracking = false;
    let seen = {};
    let hbMs = 0;
    let hbTimer = 0;
    let hbListening = false;
    let lastReq = 0;
    let pageViewed = false;

    const cookieName = (prefix) => prefix + '.' + site + '.' + hash4((cookieDomain || bareHost(w.location.hostname)) + cookiePath);
    const cookiesOn = () => !noCookies && nav.cookieEnabled !== false;
    const writeCookie = (prefix, value, ttl) => setCookie(cookieName(prefix), value, ttl, cookiePath, cookieDomain);
    const dropCookies = () => {
      writeCookie('_pk_id', '', -DAY);
      writeCookie('_pk_ses', '', -DAY);
    };
    const storedId = () => {
      const m = !noCookies && /^([0-9a-f]{16})\.(\d+)/.exec(getCookie(cookieName('_pk_id')) || '');
      return m ? m : null;
    };
    const visitor = () => {
      const m = storedId();
      if (m) {
        visitorId = m[1];
        visitorTs = +m[2];
      } else if (!visitorId) {
        visitorId = rand(16, HEX);
        visitorTs = Math.floor(now() / 1000);
      }
      return visitorId;
    };
    const dntOn = () => /^(1|yes)$/.test(String(nav.doNotTrack || w.doNotTrack || nav.msDoNotTrack));
    const firstParam = (keys) => {
      for (let i = 0; i < keys.length; i++) {
        const v = urlParam(LANDING, keys[i]);
        if (v) return v;
      }
      return undefined;
    };
    const build = (specific, customData) => {
      const t = new Date();
      const known = !!storedId();
      const p = Object.assign({}, specific, {
        idsite: site,
        rec: 1,
        r: rand(6, '0123456789'),
        h: t.getHours(),
        m: t.getMinutes(),
        s: t.getSeconds(),
        url: customUrl || w.location.href,
        urlref: referrer || undefined,
        uid: userId || undefined,
        _id: visitor(),
        _idn: known ? 0 : 1,
        send_image: 0,
        cookie: cookiesOn() ? 1 : 0,
        res: w.screen ? w.screen.width + 'x' + w.screen.height : undefined,
      });
      Object.keys(dims).forEach((k) => (p['dimension' + k] = dims[k]));
      p.pv_id = pvId || (pvId = rand(6, ALNUM));
      p._rcn = firstParam(nameKeys);
      p._rck = firstParam(kwdKeys);
      if (customData && typeof customData === 'object') Object.assign(p, customData);
      return Object.keys(p)
        .filter((k) => p[k] !== undefined && p[k] !== null)
        .map((k) => enc(k) + '=' + enc(p[k]))
        .join('&');
    };
    const send = (query) => {
      if (cookiesOn()) {
        writeCookie('_pk_id', visitor() + '.' + visitorTs, 33696e6); // 13 months
        writeCookie('_pk_ses', '1', 18e5); // 30 minutes
      }
      lastReq = now();
      if (hbMs) schedule();
      transport(url + '?' + query);
    };
    const request = (specific, customData, callback) => {
      try {
        if ((honourDnt && dntOn()) || !url || !site) return;
        const query = build(specific, customData);
        if (consentRequired && !consentGiven) pending.push(query);
        else send(query);
        if (isFn(callback)) callback();
      } catch (e) {
        /* never throw into the page */
      }
    };

    // Heartbeat: the timer restarts after every request, so it fires after hbMs of quiet.
    const active = () => d.visibilityState !== 'hidden' && (!d.hasFocus || d.hasFocus());
    const beat = (fromTimer) => {
      if (!hbMs || !pageViewed || (consentRequired && !consentGiven) || !active()) return;
      if (fromTimer === true || now() - lastReq >= hbMs) request({ ping: 1 });
    };
    const schedule = () => {
      clearTimeout(hbTimer);
      hbTimer = setTimeout(() => {
        beat(true);
        schedule();
      }, hbMs);
    };
    const onFocus = () => beat(false);

    const isOwnHost = (host) => {
      const h = bareHost(host);
      if (h === bareHost(w.location.hostname)) return true;
      return domains.some((dom) => {
        const x = bareHost(String(dom).split('/')[0]);
        return x.indexOf('*.') === 0 ? h === x.slice(2) || h.slice(-x.length + 1) === x.slice(1) : h === x;
      });
    };
    const linkType = (el) => {
      const cls = ' ' + attr(el, 'class') + ' ';
      const hasClass = (c) => new RegExp('\\s(matomo|piwik)_' + c + '\\s').test(cls);
      if (hasClass('ignore')) return '';
      let u;
      try {
        u = new URL(el.href, w.location.href);
      } catch (e) {
        return '';
      }
      if (hasClass('download') || (el.hasAttribute && el.hasAttribute('download')) || new RegExp('\\.(' + downloads + ')$', 'i').test(u.pathname)) {
        return 'download';
      }
      if (hasClass('link') || (/^https?:$/.test(u.protocol) && !isOwnHost(u.hostname))) return 'link';
      return '';
    };
    const onClick = (e) => {
      try {
        if (e.type === 'click' ? e.button : e.button !== 1) return;
        let el = e.target;
        while (el && !(/^(a|area)$/i.test(el.tagName || '') && typeof el.href === 'string' && el.href)) el = el.parentNode;
        const type = el && linkType(el);
        if (type) api.trackLink(el.href, type);
      } catch (err) {
        /* never throw into the page */
      }
    };

    const content = (block) => {
      const pieceEl = within(block, 'data-content-piece')[0];
      const targetEl = within(block, 'data-content-target')[0] || block;
      const media = pieceEl && (pieceEl.src || attr(pieceEl, 'src'));
      const hrefEl = within(targetEl, 'href')[0];
      const target = attr(targetEl, 'data-content-target') || (hrefEl && (hrefEl.href || attr(hrefEl, 'href'))) || '';
      return [
        attr(block, 'data-content-name') || (media && abs(media)) || attr(block, 'title') || 'Unknown',
        attr(pieceEl, 'data-content-piece') || (media && abs(media)) || 'Unknown',
        target && abs(target),
      ];
    };
    const contentRequest = (c, interaction) => {
      const p = { c_n: c[0], c_p: c[1] || undefined, c_t: c[2] || undefined };
      if (interaction) p.c_i = interaction;
      request(p);
    };
    const blockOf = (node) => {
      while (node && !(node.hasAttribute && node.hasAttribute('data-track-content'))) node = node.parentNode;
      return node;
    };

    const api = {
      // configuration
      setTrackerUrl: (u) => (url = String(u || '')),
      getTrackerUrl: () => url,
      setSiteId: (id) => (site = has(id) ? String(id) : ''),
      getSiteId: () => site,
      setCustomUrl: (u) => (customUrl = has(u) ? abs(String(u)) : ''),
      getCurrentUrl: () => customUrl || w.location.href,
      setDocumentTitle: (t) => (title = String(t)),
      setReferrerUrl: (u) => (referrer = String(u || '')),
      setDomains: (list) => (domains = Array.isArray(list) ? list : [list]),
      setCookieDomain: (dom) => (cookieDomain = String(dom || '').replace(/^\*/, '')),
      setCookiePath: (p) => (cookiePath = String(p || '/')),
      setDownloadExtensions: (ext) => (downloads = Array.isArray(ext) ? ext.join('|') : String(ext)),
      addDownloadExtensions: (ext) => (downloads += '|' + (Array.isArray(ext) ? ext.join('|') : String(ext))),
      setCampaignNameKey: (k) => (nameKeys = Array.isArray(k) ? k : [k]),
      setCampaignKeywordKey: (k) => (kwdKeys = Array.isArray(k) ? k : [k]),
      setDoNotTrack: (on) => (honourDnt = on !== false),
      setUserId: (id) => {
        if (has(id)) userId = String(id);
      },
      resetUserId: () => (userId = ''),
      getUserId: () => userId,
      setCustomDimension: (id, value) => {
        const n = parseInt(id, 10);
        if (n > 0) dims[n] = has(value) ? String(value) : '';
      },
      deleteCustomDimension: (id) => delete dims[parseInt(id, 10)],
      getCustomDimension: (id) => dims[parseInt(id, 10)],
      getVisitorId: () => visitor(),
      getPageViewId: () => pvId,
      // cookies and consent
      disableCookies: () => {
        noCookies = true;
        visitorId = '';
        dropCookies();
      },
      hasCookies: () => cookiesOn(),
      deleteCookies: () => dropCookies(),
      requireConsent: () => {
        consentRequired = true;
        if (getCookie(CONSENT)) consentGiven = true;
      },
      isConsentRequired: () => consentRequired,
      hasRememberedConsent: () => !!getCookie(CONSENT),
      setConsentGiven: () => {
        consentGiven = true;
        const queued = pending;
        pending = [];
        queued.forEach(send);
      },
      rememberConsentGiven: (hours) => {
        setCookie(CONSENT, String(now()), hours > 0 ? hours * 36e5 : 30 * 365 * DAY);
        api.setConsentGiven();
      },
      forgetConsentGiven: () => {
        setCookie(CONSENT, '', -DAY);
        dropCookies();
        consentRequired = true;
        consentGiven = false;
        pending = [];
      },
      // tracking
      trackPageView: (customTitle, customData, callback) => {
        pvId = rand(6, ALNUM);
        seen = {};
        if (noCookies) visitorId = '';
        const p = { action_name: has(customTitle) ? String(customTitle) : title || d.title || '' };
        if (!perfSent) {
          perfSent = true;
          Object.assign(p, perf());
        }
        if (ecView) Object.assign(p, ecView);
        ecView = null;
        pageViewed = true;
        request(p, customData, callback);
      },
      trackEvent: (category, action, name, value, customData, callback) => {
        if (!has(category) || !has(action) || !String(category).trim() || !String(action).trim()) return;
        request({ e_c: String(category), e_a: String(action), e_n: has(name) ? String(name) : undefined, e_v: num(value) }, customData, callback);
      },
      trackGoal: (idGoal, revenue, customData, callback) => {
        if (has(idGoal)) request({ idgoal: idGoal, revenue: num(revenue) }, customData, callback);
      },
      trackSiteSearch: (keyword, category, resultsCount, customData) => {
        if (!has(keyword)) return;
        const cat = Array.isArray(category) ? JSON.stringify(category) : has(category) && category !== false ? String(category) : undefined;
        request({ search: String(keyword), search_cat: cat, search_count: num(resultsCount) }, customData);
      },
      trackLink: (u, type, customData, callback) => {
        if (has(u)) request({ [type === 'download' ? 'download' : 'link']: String(u) }, customData, callback);
      },
      enableLinkTracking: (enable) => {
        const on = enable !== false;
        if (on === linkTracking) return;
        linkTracking = on;
        ['click', 'auxclick'].forEach((type) => d[on ? 'addEventListener' : 'removeEventListener'](type, onClick, true));
      },
      enableHeartBeatTimer: (seconds) => {
        hbMs = Math.max(1, num(seconds) || 15) * 1000;
        if (!hbListening) {
          hbListening = true;
          w.addEventListener('focus', onFocus);
          d.addEventListener('visibilitychange', onFocus);
        }
        schedule();
      },
      disableHeartBeatTimer: () => {
        hbMs = 0;
        clearTimeout(hbTimer);
      },
      ping: () => request({ ping: 1 }),
      // ecommerce
      addEcommerceItem: (sku, name, category, price, quantity) => {
        if (!has(sku)) return;
        const item = [String(sku), has(name) ? String(name) : '', has(category) ? category : '', num(price) || 0, parseInt(quantity, 10) || 1];
        const i = items.findIndex((x) => x[0] === item[0]);
        if (i >= 0) items[i] = item;
        else items.push(item);
      },
      removeEcommerceItem: (sku) => (items = items.filter((x) => x[0] !== String(sku))),
      clearEcommerceCart: () => (items = []),
      getEcommerceItems: () => items.map((x) => x.slice()),
      trackEcommerceOrder: (orderId, grandTotal, subTotal, tax, shipping, discount) => {
        if (!has(orderId) || num(grandTotal) === undefined) return;
        request({
          idgoal: 0,
          ec_id: String(orderId),
          revenue: num(grandTotal),
          ec_st: num(subTotal),
          ec_tx: num(tax),
          ec_sh: num(shipping),
          ec_dt: num(discount),
          ec_items: items.length ? JSON.stringify(items) : undefined,
        });
        items = [];
      },
      trackEcommerceCartUpdate: (grandTotal) => {
        if (num(grandTotal) !== undefined) request({ idgoal: 0, revenue: num(grandTotal), ec_items: JSON.stringify(items) });
      },
      setEcommerceView: (sku, name, category, price) => {
        ecView = {
          _pks: has(sku) ? String(sku) : '',
          _pkn: has(name) ? String(name) : '',
          _pkc: Array.isArray(category) ? JSON.stringify(category) : has(category) ? String(category) : '',
          _pkp: num(price),
        };
      },
      // content
      trackContentImpression: (name, piece, target) => {
        if (has(name)) contentRequest([String(name), has(piece) ? String(piece) : 'Unknown', has(target) ? String(target) : '']);
      },
      trackContentImpressionsWithinNode: (node) => {
        within(node, 'data-track-content').forEach((block) => {
          const c = content(block);
          const key = c.join('\n');
          if (seen[key]) return;
          seen[key] = 1;
          contentRequest(c);
        });
      },
      trackAllContentImpressions: () => ready(() => api.trackContentImpressionsWithinNode(d)),
      trackContentInteraction: (interaction, name, piece, target) => {
        if (has(interaction) && has(name)) contentRequest([String(name), has(piece) ? String(piece) : 'Unknown', has(target) ? String(target) : ''], String(interaction));
      },
      trackContentInteractionNode: (node, interaction) => {
        const block = blockOf(node);
        if (block) contentRequest(content(block), has(interaction) ? String(interaction) : 'Unknown');
      },
    };
    return api;
  }

  const trackers = [];
  const matomo = {
    plura: true,
    initialized: true,
    getTracker: (u, s) =>
      createTracker(u !== undefined ? u : trackers[0].getTrackerUrl(), s !== undefined ? s : trackers[0].getSiteId()),
    getAsyncTracker: (u, s) => {
      if (u === undefined && s === undefined) return trackers[0];
      return trackers.find((t) => (u === undefined || t.getTrackerUrl() === u) && (s === undefined || t.getSiteId() === String(s)));
    },
    getAsyncTrackers: () => trackers.slice(),
    addTracker: (u, s) => {
      const t = createTracker(has(u) ? u : trackers[0].getTrackerUrl(), has(s) ? s : trackers[0].getSiteId());
      trackers.push(t);
      return t;
    },
  };
  w.Matomo = w.Piwik = matomo;
  trackers.push(createTracker());

  const run = (cmd) => {
    try {
      if (!cmd || !cmd.length) return;
      const name = cmd[0];
      const args = Array.prototype.slice.call(cmd, 1);
      if (isFn(name)) name.apply(trackers[0], args);
      else if (name === 'addTracker') matomo.addTracker.apply(null, args);
      else trackers.forEach((t) => isFn(t[name]) && t[name].apply(t, args));
    } catch (e) {
      /* never throw into the page */
    }
  };
  const tier = (cmd) => {
    const name = cmd && cmd[0];
    if (name === 'setTrackerUrl' || name === 'setSiteId') return 0;
    return /^(addTracker|disableCookies|setCookieDomain|setCookiePath|setDoNotTrack|requireConsent)$/.test(name) ? 1 : 2;
  };
  const queue = Array.isArray(w._paq) ? w._paq : [];
  const initial = queue.slice();
  queue.length = 0;
  queue.push = function () {
    for (let i = 0; i < arguments.length; i++) run(arguments[i]);
    return 0;
  };
  w._paq = queue;
  [0, 1, 2].forEach((t) => initial.forEach((cmd) => tier(cmd) === t && run(cmd)));
  ['matomoAsyncInit', 'piwikAsyncInit'].forEach((k) => isFn(w[k]) && run([w[k]]));
})();
