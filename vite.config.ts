import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The web interface: built into dist/client and served by `plura serve` from `/`.
// `npm run dev:web` serves it with hot reload and proxies the API to a running `npm run dev`.
export default defineConfig({
  root: fileURLToPath(new URL('./src/web/client', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    // ECharts is the one big dependency: its own chunk (about 190 kB compressed), loaded only by pages that draw a chart.
    rollupOptions: { output: { manualChunks: (id: string) => (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') ? 'charts' : undefined) } },
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/auth', '/index.php', '/embed', '/matomo.php', '/matomo.js', '/setup'].map((path) => [path, { target: process.env.PLURA_DEV_API ?? 'http://localhost:8080', changeOrigin: false }]),
    ),
  },
});
