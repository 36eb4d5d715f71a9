import { describe, expect, it } from 'vitest';
import { classifyReferrer, defaultCampaignKeys } from './referrer.js';
import type { ReferrerInfo } from './referrer.js';

const siteHosts = ['example.com', 'www.example.org'];
const page = 'https://www.example.com/pricing';

function classify(referrerUrl: string, pageUrl = page, extra: Partial<Parameters<typeof classifyReferrer>[0]> = {}): ReferrerInfo {
  return classifyReferrer({ pageUrl, referrerUrl, siteHosts, ...extra });
}

describe('classifyReferrer: campaigns', () => {
  it('reads Matomo and Google Analytics campaign parameters from the landing page, lower-casing them', () => {
    expect(classify('https://www.google.com/', 'https://example.com/?utm_source=Newsletter&utm_campaign=Spring_Sale&utm_term=Red+Shoes')).toEqual({
      type: 'campaign',
      name: 'spring_sale',
      keyword: 'red shoes',
      url: 'https://www.google.com/',
    });
    expect(classify('', 'https://example.com/landing?pk_campaign=Winter%202024&pk_kwd=Boots')).toEqual({ type: 'campaign', name: 'winter 2024', keyword: 'boots', url: '' });
    expect(classify('', 'https://example.com/?mtm_campaign=Launch&mtm_kwd=beta')).toMatchObject({ type: 'campaign', name: 'launch', keyword: 'beta' });
  });

  it('follows the order of the name keys (utm_source and utm_medium are only fallbacks)', () => {
    expect(classify('', 'https://example.com/?utm_medium=email&utm_source=mailchimp')).toMatchObject({ type: 'campaign', name: 'mailchimp', keyword: '' });
    expect(classify('', 'https://example.com/?utm_medium=cpc')).toMatchObject({ type: 'campaign', name: 'cpc' });
  });

  it('reads campaign parameters from the fragment, including a single-page-app route', () => {
    expect(classify('', 'https://example.com/#pk_campaign=Fragment&pk_kwd=kw')).toMatchObject({ type: 'campaign', name: 'fragment', keyword: 'kw' });
    expect(classify('', 'https://example.com/app#/products?utm_campaign=SPA')).toMatchObject({ type: 'campaign', name: 'spa' });
  });

  it('uses the remembered _rcn/_rck when the landing page has no campaign, and prefers the page', () => {
    expect(classify('https://www.bing.com/search?q=x', page, { campaignName: 'Remembered', campaignKeyword: 'KW' })).toEqual({
      type: 'campaign',
      name: 'remembered',
      keyword: 'kw',
      url: 'https://www.bing.com/search?q=x',
    });
    expect(classify('', 'https://example.com/?pk_campaign=fromurl', { campaignName: 'remembered' })).toMatchObject({ name: 'fromurl' });
    // A blank _rcn is no campaign.
    expect(classify('', page, { campaignName: '  ' }).type).toBe('direct');
  });

  it('honours custom campaign keys and matches parameter names case-insensitively', () => {
    const campaignKeys = { name: ['cmp'], keyword: ['cmpkw'] };
    expect(classify('', 'https://example.com/?cmp=Custom&cmpkw=Word', { campaignKeys })).toMatchObject({ type: 'campaign', name: 'custom', keyword: 'word' });
    expect(classify('', 'https://example.com/?utm_campaign=ignored', { campaignKeys }).type).toBe('direct');
    expect(classify('', 'https://example.com/?UTM_CAMPAIGN=Upper').name).toBe('upper');
  });

  it('exports Matomo’s default campaign keys', () => {
    expect(defaultCampaignKeys.name).toEqual(['pk_cpn', 'pk_campaign', 'piwik_campaign', 'mtm_campaign', 'matomo_campaign', 'utm_campaign', 'utm_source', 'utm_medium']);
    expect(defaultCampaignKeys.keyword).toEqual(['pk_kwd', 'pk_keyword', 'piwik_kwd', 'mtm_kwd', 'mtm_keyword', 'matomo_kwd', 'utm_term']);
  });
});

describe('classifyReferrer: direct entries', () => {
  it('treats an empty referrer as direct', () => {
    expect(classify('')).toEqual({ type: 'direct', name: '', keyword: '', url: '' });
    expect(classify('   ')).toEqual({ type: 'direct', name: '', keyword: '', url: '' });
  });

  it('treats the site itself, its aliases and their subdomains as direct', () => {
    expect(classify('https://example.com/blog/post').type).toBe('direct');
    expect(classify('https://www.example.com/').type).toBe('direct');
    expect(classify('https://shop.example.com/cart').type).toBe('direct');
    expect(classify('http://example.org/').type).toBe('direct');
    expect(classify('https://EXAMPLE.COM./x').type).toBe('direct');
    // The landing page's own host counts even when it is not (yet) a site URL.
    expect(classifyReferrer({ pageUrl: 'https://staging.acme.io/', referrerUrl: 'https://staging.acme.io/login', siteHosts: [] }).type).toBe('direct');
  });

  it('accepts site hosts written as URLs, with ports or wildcards', () => {
    const hosts = ['https://acme.test:8443/app', '*.acme.dev'];
    expect(classifyReferrer({ pageUrl: 'https://x.test/', referrerUrl: 'https://acme.test/a', siteHosts: hosts }).type).toBe('direct');
    expect(classifyReferrer({ pageUrl: 'https://x.test/', referrerUrl: 'https://eu.acme.dev/', siteHosts: hosts }).type).toBe('direct');
  });

  it('does not mistake a look-alike host for the site', () => {
    expect(classify('https://notexample.com/')).toMatchObject({ type: 'website', name: 'notexample.com' });
    expect(classify('https://example.com.evil.net/')).toMatchObject({ type: 'website', name: 'example.com.evil.net' });
  });

  it('never throws on malformed input', () => {
    for (const referrerUrl of ['not a url', 'http://', 'https://[::1', '%%%', 'javascript:alert(1)', 'about:blank', `https://x.com/${'%'.repeat(5000)}`]) {
      expect(() => classify(referrerUrl)).not.toThrow();
    }
    expect(classify('not a url').type).toBe('direct');
    expect(classify('about:blank').type).toBe('direct');
    expect(() => classifyReferrer({ pageUrl: '::::', referrerUrl: 'https://www.google.com/search?q=%E0%A4%A', siteHosts: ['', '::'] })).not.toThrow();
    expect(classify('https://www.google.com/search?q=%E0%A4%A', 'https://example.com/?utm_campaign=%ZZ')).toMatchObject({ type: 'campaign', name: '%zz' });
  });
});

describe('classifyReferrer: search engines', () => {
  it.each([
    ['https://www.google.com/search?q=Web+Analytics&source=hp', 'Google', 'web analytics'],
    ['https://www.google.co.uk/search?q=matomo%20alternative&hl=en', 'Google', 'matomo alternative'],
    ['https://www.google.com.br/search?q=an%C3%A1lise', 'Google', 'análise'],
    ['https://www.bing.com/search?q=self+hosted+analytics&form=QBLH', 'Bing', 'self hosted analytics'],
    ['https://duckduckgo.com/?q=privacy+analytics&t=h_&ia=web', 'DuckDuckGo', 'privacy analytics'],
    ['https://search.yahoo.com/search?p=plura&fr=yfp-t&fp=1', 'Yahoo!', 'plura'],
    ['https://uk.search.yahoo.com/search?p=cookie+banner', 'Yahoo!', 'cookie banner'],
    ['https://yandex.ru/search/?text=%D0%B0%D0%BD%D0%B0%D0%BB%D0%B8%D1%82%D0%B8%D0%BA%D0%B0&lr=213', 'Yandex', 'аналитика'],
    ['https://www.baidu.com/s?wd=%E7%BD%91%E7%AB%99%E7%BB%9F%E8%AE%A1&rsv_spt=1', 'Baidu', '网站统计'],
    ['https://m.baidu.com/s?word=analytics', 'Baidu', 'analytics'],
    ['https://www.ecosia.org/search?method=index&q=trees', 'Ecosia', 'trees'],
    ['https://search.brave.com/search?q=brave+search&source=web', 'Brave', 'brave search'],
    ['https://search.naver.com/search.naver?where=nexearch&query=%EB%B6%84%EC%84%9D', 'Naver', '분석'],
    ['https://www.startpage.com/do/search?query=private', 'Startpage', 'private'],
    ['https://webcache.googleusercontent.com/search?q=cache:AbC123xyz:example.com/+plura+docs&cd=1', 'Google', 'plura docs'],
  ])('%s → %s "%s"', (referrerUrl, name, keyword) => {
    expect(classify(referrerUrl)).toEqual({ type: 'search', name, keyword, url: referrerUrl });
  });

  it('counts an engine that hides the keyword as a search with an unknown keyword', () => {
    expect(classify('https://www.google.com/')).toMatchObject({ type: 'search', name: 'Google', keyword: '' });
    expect(classify('https://www.google.de/url?sa=t&rct=j&q=&esrc=s')).toMatchObject({ type: 'search', name: 'Google', keyword: '' });
    expect(classify('https://www.bing.com/')).toMatchObject({ type: 'search', name: 'Bing', keyword: '' });
    expect(classify('https://duckduckgo.com/')).toMatchObject({ type: 'search', name: 'DuckDuckGo', keyword: '' });
    expect(classify('android-app://com.google.android.googlequicksearchbox/')).toMatchObject({ type: 'search', name: 'Google', keyword: '' });
  });

  it('prefers a path-specific definition and falls back to website off the search paths', () => {
    expect(classify('https://www.google.com/cse?cx=123&q=docs')).toMatchObject({ type: 'search', name: 'Google Custom Search', keyword: 'docs' });
    expect(classify('https://www.bing.com/images/search?q=logo')).toMatchObject({ type: 'search', name: 'Bing Images', keyword: 'logo' });
    expect(classify('https://www.google.com/maps/place/Somewhere')).toMatchObject({ type: 'website', name: 'google.com' });
  });
});

describe('classifyReferrer: social networks', () => {
  it.each([
    ['https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2F&h=AT0', 'Facebook'],
    ['https://m.facebook.com/', 'Facebook'],
    ['https://t.co/AbCdEf1234', 'Twitter'],
    ['https://x.com/someone/status/1', 'Twitter'],
    ['https://www.linkedin.com/feed/', 'LinkedIn'],
    ['https://lnkd.in/eAbCd', 'LinkedIn'],
    ['https://old.reddit.com/r/selfhosted/comments/abc/', 'reddit'],
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'YouTube'],
    ['https://news.ycombinator.com/item?id=123', 'Hacker News'],
    ['https://github.com/owner/repo', 'GitHub'],
    ['android-app://org.telegram.messenger/', 'Telegram'],
  ])('%s → %s', (referrerUrl, name) => {
    expect(classify(referrerUrl)).toEqual({ type: 'social', name, keyword: '', url: referrerUrl });
  });

  it('treats a search on a network that is also a search engine as a search', () => {
    expect(classify('https://www.facebook.com/search/top/?q=plura')).toMatchObject({ type: 'search', name: 'Facebook', keyword: 'plura' });
    expect(classify('https://www.facebook.com/')).toMatchObject({ type: 'social', name: 'Facebook' });
  });
});

describe('classifyReferrer: websites', () => {
  it('names a website by its host without www.', () => {
    const url = 'https://www.some-blog.net/2024/05/post.html?ref=feed';
    expect(classify(url)).toEqual({ type: 'website', name: 'some-blog.net', keyword: '', url });
    expect(classify('http://Blog.Example.NET:8080/x')).toMatchObject({ type: 'website', name: 'blog.example.net' });
    expect(classify('android-app://com.google.android.gm/')).toMatchObject({ type: 'website', name: 'com.google.android.gm' });
  });

  it('accepts a referrer without a scheme', () => {
    expect(classify('partner.example.net/links')).toMatchObject({ type: 'website', name: 'partner.example.net' });
  });
});
