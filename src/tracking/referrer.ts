export type ReferrerType = 'direct' | 'website' | 'search' | 'social' | 'campaign';

export interface ReferrerInfo {
  readonly type: ReferrerType;
  /** Host, search engine or network name, or campaign name. */
  readonly name: string;
  /** Search keyword or campaign keyword; '' when unknown. */
  readonly keyword: string;
  readonly url: string;
}

export interface CampaignKeys {
  readonly name: readonly string[];
  readonly keyword: readonly string[];
}

/** Matomo's default campaign parameters ([Tracker] campaign_var_name / campaign_keyword_var_name). */
export const defaultCampaignKeys: CampaignKeys = {
  name: ['pk_cpn', 'pk_campaign', 'piwik_campaign', 'mtm_campaign', 'matomo_campaign', 'utm_campaign', 'utm_source', 'utm_medium'],
  keyword: ['pk_kwd', 'pk_keyword', 'piwik_kwd', 'mtm_kwd', 'mtm_keyword', 'matomo_kwd', 'utm_term'],
};

interface SearchEngine {
  readonly name: string;
  /** Matches the referrer host (lower case, without a leading www.). */
  readonly host: RegExp;
  readonly params: readonly string[];
}

/**
 * Plura's own table of the search engines that send most search traffic. Matomo's
 * community list (CC0) is not published on npm, which is all these machines reach;
 * this table is kept in the same spirit and is easy to extend.
 */
const searchEngines: readonly SearchEngine[] = [
  { name: 'Google', host: /^(?:[a-z]+\.)?google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$/, params: ['q', 'query'] },
  { name: 'Bing', host: /^(?:[a-z]+\.)?bing\.com$/, params: ['q'] },
  { name: 'Yahoo!', host: /^(?:[a-z]+\.)?search\.yahoo\.(?:com|co\.jp|[a-z]{2})$/, params: ['p', 'q'] },
  { name: 'DuckDuckGo', host: /^(?:html\.|lite\.)?duckduckgo\.com$/, params: ['q'] },
  { name: 'Yandex', host: /^(?:[a-z]+\.)?yandex\.(?:ru|com|ua|by|kz|com\.tr)$|^ya\.ru$/, params: ['text'] },
  { name: 'Baidu', host: /^(?:[a-z]+\.)?baidu\.com$/, params: ['wd', 'word', 'kw'] },
  { name: 'Ecosia', host: /^ecosia\.org$/, params: ['q'] },
  { name: 'Qwant', host: /^(?:lite\.)?qwant\.com$/, params: ['q'] },
  { name: 'Startpage', host: /^(?:[a-z]+\.)?startpage\.com$/, params: ['query', 'q'] },
  { name: 'Brave Search', host: /^search\.brave\.com$/, params: ['q'] },
  { name: 'Naver', host: /^(?:[a-z]+\.)?search\.naver\.com$/, params: ['query'] },
  { name: 'Seznam', host: /^(?:search\.)?seznam\.cz$/, params: ['q'] },
  { name: 'Sogou', host: /^(?:[a-z]+\.)?sogou\.com$/, params: ['query', 'keyword'] },
  { name: '360 Search', host: /^(?:[a-z]+\.)?so\.com$/, params: ['q'] },
  { name: 'Ask', host: /^(?:[a-z]+\.)?ask\.com$/, params: ['q'] },
  { name: 'AOL', host: /^search\.aol\.(?:com|co\.uk)$/, params: ['q', 'query'] },
  { name: 'Kagi', host: /^kagi\.com$/, params: ['q'] },
  { name: 'Mojeek', host: /^mojeek\.com$/, params: ['q'] },
  { name: 'Yahoo! Japan', host: /^search\.yahoo\.co\.jp$/, params: ['p'] },
  { name: 'Daum', host: /^search\.daum\.net$/, params: ['q'] },
];

/** Social networks by host (lower case, without www.); subdomains match too. */
const socialNetworks: Readonly<Record<string, string>> = {
  'facebook.com': 'Facebook',
  'fb.me': 'Facebook',
  'twitter.com': 'Twitter',
  'x.com': 'Twitter',
  't.co': 'Twitter',
  'linkedin.com': 'LinkedIn',
  'lnkd.in': 'LinkedIn',
  'instagram.com': 'Instagram',
  'pinterest.com': 'Pinterest',
  'reddit.com': 'reddit',
  'youtube.com': 'YouTube',
  'youtu.be': 'YouTube',
  'tiktok.com': 'TikTok',
  'vk.com': 'Vkontakte',
  'weibo.com': 'Weibo',
  'tumblr.com': 'tumblr',
  'github.com': 'GitHub',
  'stackoverflow.com': 'StackOverflow',
  'news.ycombinator.com': 'Hacker News',
  'mastodon.social': 'Mastodon',
  'threads.net': 'Threads',
  'bsky.app': 'Bluesky',
  'web.telegram.org': 'Telegram',
  'whatsapp.com': 'WhatsApp',
  'xing.com': 'XING',
  'ok.ru': 'Odnoklassniki',
  'quora.com': 'Quora',
  'discord.com': 'Discord',
  'snapchat.com': 'Snapchat',
  'flickr.com': 'Flickr',
  'vimeo.com': 'Vimeo',
  'medium.com': 'Medium',
};

function parse(url: string): URL | null {
  if (url === '') return null;
  try {
    return new URL(url);
  } catch {
    try {
      return new URL(`http://${url}`);
    } catch {
      return null;
    }
  }
}

const stripWww = (host: string): string => host.toLowerCase().replace(/^www\./, '').replace(/\.$/, '');

function socialName(host: string): string | undefined {
  for (let candidate = host; candidate.includes('.'); candidate = candidate.slice(candidate.indexOf('.') + 1)) {
    const name = socialNetworks[candidate];
    if (name) return name;
  }
  return undefined;
}

/** Campaign parameters of a page URL, from its query or its hash (Matomo reads both). */
function campaignOf(page: URL | null, keys: CampaignKeys): { name: string; keyword: string } | null {
  if (!page) return null;
  const sources = [page.searchParams, new URLSearchParams(page.hash.replace(/^#/, ''))];
  const find = (names: readonly string[]): string => {
    for (const source of sources) {
      for (const name of names) {
        for (const [key, value] of source) if (key.toLowerCase() === name && value.trim() !== '') return value.trim();
      }
    }
    return '';
  };
  const name = find(keys.name);
  return name === '' ? null : { name, keyword: find(keys.keyword) };
}

/** Matomo's referrer attribution for a visit's first action. Never throws. */
export function classifyReferrer(input: {
  pageUrl: string;
  referrerUrl: string;
  siteHosts: readonly string[];
  campaignName?: string;
  campaignKeyword?: string;
  campaignKeys?: CampaignKeys;
}): ReferrerInfo {
  const keys = input.campaignKeys ?? defaultCampaignKeys;
  const page = parse(input.pageUrl);
  // Matomo: campaign names are stored lower case.
  if (input.campaignName && input.campaignName.trim() !== '') {
    return { type: 'campaign', name: input.campaignName.trim().toLowerCase(), keyword: (input.campaignKeyword ?? '').trim().toLowerCase(), url: input.referrerUrl };
  }
  const campaign = campaignOf(page, keys);
  if (campaign) return { type: 'campaign', name: campaign.name.toLowerCase(), keyword: campaign.keyword.toLowerCase(), url: input.referrerUrl };

  const referrer = parse(input.referrerUrl);
  if (!referrer || (referrer.protocol !== 'http:' && referrer.protocol !== 'https:' && referrer.protocol !== 'android-app:')) {
    return { type: 'direct', name: '', keyword: '', url: '' };
  }
  const host = stripWww(referrer.hostname);
  const own = input.siteHosts.map(stripWww);
  if (host === '' || own.some((site) => host === site || host.endsWith(`.${site}`))) return { type: 'direct', name: '', keyword: '', url: '' };

  for (const engine of searchEngines) {
    if (!engine.host.test(host)) continue;
    let keyword = '';
    for (const param of engine.params) {
      const value = referrer.searchParams.get(param) ?? new URLSearchParams(referrer.hash.replace(/^#/, '')).get(param);
      if (value && value.trim() !== '') {
        keyword = value.trim().toLowerCase();
        break;
      }
    }
    return { type: 'search', name: engine.name, keyword, url: input.referrerUrl };
  }
  const social = socialName(host);
  if (social) return { type: 'social', name: social, keyword: '', url: input.referrerUrl };
  return { type: 'website', name: host, keyword: '', url: input.referrerUrl };
}
