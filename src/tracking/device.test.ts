import { describe, expect, it } from 'vitest';
import { detectDevice, deviceCacheHits, warmUpDeviceDetection } from './device.js';

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const ANDROID_TABLET = 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
// Chrome's reduced user agent: the real model and Android version are only in the client hints.
const REDUCED_ANDROID = 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';

describe('detectDevice', () => {
  it('detects Chrome on a Windows desktop', () => {
    const d = detectDevice(CHROME_WINDOWS);
    expect(d).toMatchObject({
      deviceType: 'desktop',
      osName: 'Windows',
      osCode: 'WIN',
      osVersion: '10',
      browserName: 'Chrome',
      browserCode: 'CH',
      browserVersion: '124.0.0.0',
      browserEngine: 'Blink',
      isBot: false,
      botName: null,
    });
  });

  it('detects Safari on an iPhone', () => {
    expect(detectDevice(IPHONE_SAFARI)).toMatchObject({
      deviceType: 'smartphone',
      deviceBrand: 'Apple',
      deviceModel: 'iPhone',
      osName: 'iOS',
      osCode: 'IOS',
      osVersion: '17.4',
      browserName: 'Mobile Safari',
      browserEngine: 'WebKit',
      isBot: false,
    });
  });

  it('detects an Android tablet', () => {
    const d = detectDevice(ANDROID_TABLET);
    expect(d.deviceType).toBe('tablet');
    expect(d.deviceBrand).toBe('Samsung');
    expect(d.deviceModel).toContain('Galaxy Tab');
    expect(d.osName).toBe('Android');
    expect(d.osVersion).toBe('13');
    expect(d.isBot).toBe(false);
  });

  it('detects Firefox on Linux', () => {
    expect(detectDevice(FIREFOX_LINUX)).toMatchObject({
      deviceType: 'desktop',
      osName: 'GNU/Linux',
      osCode: 'LIN',
      browserName: 'Firefox',
      browserCode: 'FF',
      browserVersion: '125.0',
      browserEngine: 'Gecko',
      isBot: false,
    });
  });

  it('flags crawlers with their name', () => {
    const google = detectDevice('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');
    expect(google.isBot).toBe(true);
    expect(google.botName).toBe('Googlebot');
    expect(google.deviceType).toBe('unknown');
    const bing = detectDevice('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)');
    expect(bing.isBot).toBe(true);
    expect(bing.botName).toBe('BingBot');
  });

  // Matomo records hits sent through HTTP libraries: server-side trackers and log importers use them.
  it('reports HTTP libraries such as curl, wget and python-requests as clients, not bots', () => {
    for (const ua of ['curl/8.5.0', 'Wget/1.21.4', 'python-requests/2.31.0', 'Go-http-client/1.1']) {
      const d = detectDevice(ua);
      expect(d.isBot, ua).toBe(false);
      expect(d.browserName, ua).not.toBe('');
    }
    expect(detectDevice('curl/8.5.0').browserName).toMatch(/curl/i);
  });

  it('returns unknown for an empty or blank user agent', () => {
    for (const ua of ['', '   ']) {
      expect(detectDevice(ua)).toEqual({
        deviceType: 'unknown',
        deviceBrand: '',
        deviceModel: '',
        osName: '',
        osCode: '',
        osVersion: '',
        browserName: '',
        browserCode: '',
        browserVersion: '',
        browserEngine: '',
        isBot: false,
        botName: null,
      });
    }
  });

  it('serves a repeated user agent from the cache (same object, hit counted)', () => {
    const ua = `${CHROME_WINDOWS} cache-probe`;
    const first = detectDevice(ua);
    const before = deviceCacheHits();
    const second = detectDevice(ua);
    expect(second).toBe(first);
    expect(deviceCacheHits()).toBe(before + 1);
    expect(Object.isFrozen(second)).toBe(true);
  });

  it('applies client hints (uadata JSON) and keys the cache by them', () => {
    const plain = detectDevice(REDUCED_ANDROID);
    expect(plain.deviceModel).toBe('');
    expect(plain.osVersion).toBe('10');

    const uadata = JSON.stringify({
      fullVersionList: [
        { brand: 'Chromium', version: '124.0.6367.82' },
        { brand: 'Google Chrome', version: '124.0.6367.82' },
        { brand: 'Not-A.Brand', version: '99.0.0.0' },
      ],
      mobile: true,
      model: 'Pixel 7',
      platform: 'Android',
      platformVersion: '14.0.0',
    });
    const hinted = detectDevice(REDUCED_ANDROID, uadata);
    expect(hinted).toMatchObject({ deviceType: 'smartphone', deviceBrand: 'Google', deviceModel: 'Pixel 7', osName: 'Android', browserVersion: '124.0.6367.82' });
    expect(hinted.osVersion).toMatch(/^14/);
    expect(hinted).not.toBe(plain);
    // The same hints as an object (already parsed) hit the same cache entry.
    expect(detectDevice(REDUCED_ANDROID, JSON.parse(uadata) as unknown)).toBe(hinted);
  });

  it('uses hints to tell Edge and Windows 11 apart from a Chrome-like user agent', () => {
    const uadata = JSON.stringify({
      fullVersionList: [
        { brand: 'Chromium', version: '124.0.6367.82' },
        { brand: 'Microsoft Edge', version: '124.0.2478.51' },
      ],
      mobile: false,
      model: '',
      platform: 'Windows',
      platformVersion: '15.0.0',
    });
    const d = detectDevice(CHROME_WINDOWS, uadata);
    expect(d.browserName).toBe('Microsoft Edge');
    expect(d.osName).toBe('Windows');
    expect(d.osVersion).toBe('11');
  });

  it('ignores invalid hints instead of throwing', () => {
    const plain = detectDevice(CHROME_WINDOWS);
    for (const bad of ['{not json', '', '[]', 'null', '42', '{"fullVersionList":"x","mobile":"yes"}', { fullVersionList: [null, 1, { brand: 2 }] }, 17]) {
      expect(() => detectDevice(CHROME_WINDOWS, bad)).not.toThrow();
      expect(detectDevice(CHROME_WINDOWS, bad)).toBe(plain);
    }
  });

  it('copes with absurdly long user agents', () => {
    const d = detectDevice(`${CHROME_WINDOWS} ${'x'.repeat(100_000)}`);
    expect(d.browserName).toBe('Chrome');
  });

  it('warms the detector up without filling the cache', () => {
    const before = deviceCacheHits();
    expect(() => warmUpDeviceDetection()).not.toThrow();
    expect(deviceCacheHits()).toBe(before);
    const probe = 'Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0';
    expect(detectDevice(probe).browserName).toBe('Firefox');
    expect(deviceCacheHits()).toBe(before);
  });
});
