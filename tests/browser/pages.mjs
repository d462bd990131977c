// Every built-in page, light and dark: the status it answers, no axe-core violation (WCAG
// 2.1 A and AA, and axe's best practices), a screenshot, keyboard focus that follows the
// page's order with a visible ring, and nothing the page's Content-Security-Policy blocks.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { artifact, authUrl, check, equal, launch, settings } from "./lib.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const PAGES = [
  ["signin", "/signin?callbackUrl=%2Fdashboard", 200],
  ["signin-error", "/signin?error=CredentialsSignin", 200],
  ["signout", "/signout", 200],
  ["verify-request", `/verify-request?provider=email&type=email&domain=example.com&domainTag=${settings.domainTag}`, 200],
  ["error", "/error?error=Verification", 403],
  ["error-configuration", "/error?error=Configuration", 500],
];

async function axeViolations(page) {
  // The pages forbid scripts (CSP); this context bypasses that for axe alone.
  await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
    }));
  });
}

/** Tabs through the page; every focusable element in DOM order, each with a focus ring. */
async function checkFocusOrder(page, name) {
  const expected = await page.evaluate(() =>
    [...document.querySelectorAll("a[href], button, input:not([type=hidden])")].map(
      (element) => element.outerHTML.slice(0, 80),
    ),
  );
  const seen = [];
  for (let i = 0; i < expected.length; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      const style = getComputedStyle(element);
      return {
        html: element.outerHTML.slice(0, 80),
        ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
      };
    });
    check(focused.ring, `${name}: a visible focus ring on ${focused.html}`);
    seen.push(focused.html);
  }
  equal(seen, expected, `${name}: keyboard focus order`);
}

export async function pages() {
  const browser = await launch();
  try {
    for (const scheme of ["light", "dark"]) {
      const context = await browser.newContext({
        colorScheme: scheme,
        bypassCSP: true,
        viewport: { width: 800, height: 900 },
      });
      const page = await context.newPage();
      for (const [name, path, status] of PAGES) {
        const response = await page.goto(authUrl(path));
        equal(response.status(), status, `${name}: status`);
        const violations = await axeViolations(page);
        check(violations.length === 0, `${name} (${scheme}): no axe violations, found ${JSON.stringify(violations, null, 1)}`);
        const prefix = settings.screenshotPrefix || "";
        await page.screenshot({ path: artifact(`${prefix}${name}-${scheme}.png`), fullPage: true });
        if (scheme === "light") await checkFocusOrder(page, name);
      }
      await context.close();
    }
    // The real policy: the pages need nothing it forbids.
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused = [];
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    for (const [, path] of PAGES) await page.goto(authUrl(path));
    equal(refused, [], "content the Content-Security-Policy refused");
    await context.close();
  } finally {
    await browser.close();
  }
}
