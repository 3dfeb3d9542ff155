// Opens the service's bundled GraphiQL in headless Chromium, as a developer
// would, and checks that it works offline: the page renders, a query typed
// into the editor runs, and a subscription started from the page shows the
// event of a mutation made meanwhile, with no console error (such as a
// Content-Security-Policy violation).
// Usage: node graphiql.mjs http://127.0.0.1:8080 <operator token>
import { chromium } from 'playwright-core';

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node graphiql.mjs <service base url> <operator token>');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage();
  // A Content-Security-Policy violation shows here too.
  const consoleErrors = [];
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  const external = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith(base.replace(/^http/, 'ws'))) {
      external.push(request.url());
    }
  });
  await page.goto(`${base}/graphql`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  if (external.length) throw new Error(`the page loaded from elsewhere: ${external.join(', ')}`);

  // `fetcher` is the page's own GraphiQL fetcher (HTTP for queries, WebSocket for subscriptions).
  // As a developer would: type into the editor, press run, read the response pane.
  const run = async (query) => {
    await page.evaluate((text) => {
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
    }, query);
    // GraphiQL parses the editor's text a moment after a change; it decides
    // from that parse whether to use the WebSocket.
    await new Promise((resolve) => setTimeout(resolve, 800));
    await page.click('.graphiql-execute-button');
  };
  const response = () => page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue());
  const waitForResponse = async (text, what) => {
    for (let i = 0; i < 100; i += 1) {
      const shown = await response();
      if (shown.includes(text)) return shown;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what}: the response pane shows ${await response()}`);
  };

  await run('{ registryVersion }');
  const answer = JSON.parse(await waitForResponse('"registryVersion"', 'a query did not run'));

  await run('subscription { registryChanged { code operation } }');
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the subscription is open
  const write = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation { municipalitySync(input: { code: "GM0772", website: "https://www.eindhoven.nl/graphiql-check" }) { changed } }',
    }),
  });
  if (!write.ok) throw new Error(`the mutation failed: HTTP ${write.status}`);
  const event = JSON.parse(await waitForResponse('"GM0772"', 'no subscription event within 10 s'));
  if (event.data.registryChanged.operation !== 'UPDATED') throw new Error(`unexpected event: ${JSON.stringify(event)}`);
  if (consoleErrors.length) throw new Error(`console errors: ${consoleErrors.join(' | ')}`);
  console.log(
    `GraphiQL renders offline, runs a query (registryVersion ${answer.data.registryVersion}) and shows a subscription event (${JSON.stringify(event.data.registryChanged)})`,
  );
} finally {
  await browser.close();
}
