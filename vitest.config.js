// Vitest: two projects. `node` runs js/test/*.test.js in Node (node-fs and node-memory backends, the
// leak, golden-root and process-restart tests, and the Chromium restart/crash tests driven through
// playwright-core). `browser` runs js/test/*.browser.test.js inside headless Chromium (Vitest browser
// mode, provider @vitest/browser-playwright, Debian's /usr/bin/chromium: Playwright downloads nothing).
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

const CHROMIUM = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
};

export default defineConfig({
  server: { fs: { allow: [process.cwd()] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'node', environment: 'node',
          include: ['js/test/**/*.test.js', 'tests/server/**/*.test.js', 'tests/repl/**/*.test.js'], exclude: ['js/test/**/*.browser.test.js'] } },
      { extends: true, test: { name: 'browser', include: ['js/test/**/*.browser.test.js'],
          browser: { enabled: true, headless: true, screenshotFailures: false,
            provider: playwright({ launchOptions: CHROMIUM }),
            instances: [{ browser: 'chromium' }] } } },
    ],
  },
});
