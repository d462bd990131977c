// What every scenario shares: Debian's Chromium driven by playwright-core, the settings the
// Rust test passes in AUTHGATE_BROWSER_TEST (JSON), assertions that say what they expected,
// and a same-origin "app" page served by intercepting requests in the browser.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

// Playwright's own browser download does not work on these machines: the system Chromium.
const EXECUTABLE = process.env.AUTHGATE_CHROMIUM || "/usr/bin/chromium";

// Without the background-networking flags Chromium keeps dialling hosts the closed network
// refuses.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The settings from the Rust side: `base` (authgate's origin), `artifacts`, and more. */
export const settings = JSON.parse(process.env.AUTHGATE_BROWSER_TEST || "{}");

export function authUrl(path) {
  return `${settings.base}/api/auth${path}`;
}

export async function launch() {
  return chromium.launch({ executablePath: EXECUTABLE, args: FLAGS, headless: true });
}

export function check(condition, message) {
  if (!condition) throw new Error(`expected ${message}`);
}

export function equal(actual, expected, what) {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** Polls `probe` until it returns a truthy value, or fails after `ms`. */
export async function waitFor(probe, what, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Where screenshots go; made on first use. */
export function artifact(name) {
  const directory = settings.artifacts || "/tmp/authgate-browser";
  mkdirSync(directory, { recursive: true });
  return join(directory, name);
}

/**
 * Serves `files` (path → {body, type}) under `${base}/app/` in `context` by answering the
 * browser's requests itself: the pages are same-origin with authgate, so its cookies and
 * the client's BroadcastChannel behave as in a real app.
 */
export async function serveApp(context, files) {
  await context.route(`${settings.base}/app/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/app\//, "");
    const file = files[path];
    if (!file) return route.fulfill({ status: 404, body: "not found" });
    await route.fulfill({ status: 200, contentType: file.type, body: file.body });
  });
}

/** The session as `GET /session` answers it in `page`'s cookie jar. */
export async function sessionOf(page) {
  const response = await page.request.get(authUrl("/session"));
  return response.json();
}

/** Runs named steps in order, printing each, and exits non-zero on the first failure. */
export async function run(steps) {
  for (const [name, step] of steps) {
    const started = Date.now();
    try {
      await step();
    } catch (error) {
      console.error(`FAILED ${name}: ${error.stack || error}`);
      process.exit(1);
    }
    console.log(`ok ${name} (${Date.now() - started} ms)`);
  }
}
