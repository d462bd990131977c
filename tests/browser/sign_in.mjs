// Signing in as a person does, in a browser with JavaScript off (the pages need none): the
// credentials form (a wrong password first), an OpenID provider's button, and an email
// link read from the SMTP server's mailbox.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { authUrl, check, equal, launch, sessionOf, settings, waitFor } from "./lib.mjs";

async function noScriptPage(browser) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  return context.newPage();
}

export async function credentialsForm(browser) {
  const page = await noScriptPage(browser);
  await page.goto(authUrl("/signin?callbackUrl=%2Fafter"));
  await page.fill("#input-username-for-password-provider", "ada");
  await page.fill("#input-password-for-password-provider", "wrong password");
  await Promise.all([page.waitForNavigation(), page.click("button[data-provider=password]")]);
  const url = new URL(page.url());
  equal(url.pathname, "/api/auth/signin", "a wrong password: back on the sign-in page");
  equal(url.searchParams.get("error"), "CredentialsSignin", "a wrong password: its error");
  const alert = await page.textContent("[role=alert]");
  check(/did not match/.test(alert), `the wrong-password message, found ${alert}`);
  equal((await sessionOf(page)), null, "no session after a wrong password");
  // The destination survived the failed attempt.
  await page.fill("#input-username-for-password-provider", "ada");
  await page.fill("#input-password-for-password-provider", "correct horse");
  await Promise.all([page.waitForNavigation(), page.click("button[data-provider=password]")]);
  equal(page.url(), `${settings.base}/after`, "signed in: the callbackUrl");
  const session = await sessionOf(page);
  equal(session.user.name, "Ada", "the session's user");
  await page.context().close();
}

export async function oidcButton(browser) {
  const page = await noScriptPage(browser);
  await page.goto(authUrl("/signin"));
  await Promise.all([page.waitForNavigation(), page.click("button[data-provider=idp]")]);
  check(page.url().startsWith(settings.issuer), `the IdP's login page, found ${page.url()}`);
  await page.fill("input[name=login]", "browser-user");
  await page.fill("input[name=password]", "any");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  // The consent prompt, then the way back through authgate's callback.
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.waitForURL((url) => url.href.startsWith(settings.base) && !url.pathname.includes("/callback/"));
  const session = await sessionOf(page);
  check(session, `a session after the OIDC sign-in, at ${page.url()}: ${await page.content()}`);
  equal(session?.user?.email, "browser-user@example.com", "the OIDC session's email");
  await page.context().close();
}

function messageFiles() {
  return readdirSync(settings.mailbox).filter((name) => name.endsWith(".json"));
}

export async function emailLink(browser) {
  const page = await noScriptPage(browser);
  const before = messageFiles().length;
  await page.goto(authUrl("/signin"));
  await page.fill("#input-email-for-email-provider", "Reader@Example.com");
  await Promise.all([page.waitForNavigation(), page.click("button[data-provider=email]")]);
  equal(new URL(page.url()).pathname, "/api/auth/verify-request", "after asking for a link");
  const text = await page.textContent("main");
  check(text.includes("example.com"), `the address's domain on the page, found ${text}`);
  const files = await waitFor(() => messageFiles().length > before && messageFiles(), "the email");
  const newest = files.sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).at(-1);
  const message = JSON.parse(readFileSync(join(settings.mailbox, newest), "utf8"));
  const link = message.text.match(/https?:\/\/\S+\/api\/auth\/callback\/email\S+/)?.[0];
  check(link, `a sign-in link in the message: ${message.text}`);
  await page.goto(link);
  const session = await sessionOf(page);
  equal(session?.user?.email, "reader@example.com", "the email session's address");
  await page.context().close();
}

export async function signIn() {
  const browser = await launch();
  try {
    await credentialsForm(browser);
    await oidcButton(browser);
    await emailLink(browser);
  } finally {
    await browser.close();
  }
}
