import { ErrorNotice, CopyButton, Loading } from '../../ui/components';
import { useMatomo } from './data';

/** Matomo answers the snippet HTML-escaped, as its own interface expects. */
function unescapeHtml(text: string): string {
  return new DOMParser().parseFromString(`<!doctype html><body>${text}`, 'text/html').body.textContent ?? text;
}

/** The empty state of a site without any data: the tracking code to install. */
export function TrackingHelp({ idSite, siteName }: { idSite: number; siteName: string }) {
  // A scalar answers as {"value": ...} in Matomo's JSON.
  const tag = useMatomo<string | { value?: unknown }>('SitesManager.getJavascriptTag', { idSite });
  const raw = typeof tag.data === 'string' ? tag.data : typeof tag.data?.value === 'string' ? tag.data.value : '';
  const snippet = raw ? unescapeHtml(raw) : '';
  return (
    <section className="card tracking-help" aria-labelledby="tracking-help-title">
      <h2 id="tracking-help-title">No data yet for {siteName}</h2>
      <p>
        This site has not received any visit. Paste this tracking code into every page of the site, just before the closing <code>&lt;/head&gt;</code> tag; visits show up here
        within moments.
      </p>
      {tag.isPending && <Loading label="Loading the tracking code…" />}
      <ErrorNotice error={tag.error} />
      {snippet && (
        <>
          <pre className="tracking-snippet" aria-label="Tracking code">
            <code>{snippet}</code>
          </pre>
          <CopyButton text={snippet} label="Copy the tracking code" />
        </>
      )}
      <p className="muted">
        The code loads <code>{window.location.origin}/matomo.js</code> and sends hits to <code>{window.location.origin}/matomo.php</code> on this host (site id {idSite}). Any Matomo
        tracker (JavaScript, mobile SDKs, the log importer) works with these addresses.
      </p>
    </section>
  );
}
