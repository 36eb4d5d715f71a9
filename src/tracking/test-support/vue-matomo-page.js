/* global window */
// A Vue app using vue-matomo from npm, bundled by clients.test.ts for the browser:
// the plugin loads matomo.js from the analytics server and drives it through _paq.
import { createApp, h } from 'vue';
import VueMatomo from 'vue-matomo';

// The package is CommonJS with an ES default inside; in an ES-module importer the default
// import is the whole module object, so take its default when present.
const plugin = typeof VueMatomo === 'function' ? VueMatomo : VueMatomo.default;
const app = createApp({ render: () => h('p', 'A blog written with Vue') });
app.use(plugin, {
  host: window.PLURA_HOST,
  siteId: 1,
  // No router here, so the first page view is queued explicitly.
  preInitActions: [['setDocumentTitle', 'Vue page'], ['trackPageView']],
});
app.mount('#app');
window.trackVueEvent = () => app.config.globalProperties.$matomo.trackEvent('Vue', 'Click', 'Subscribe');
