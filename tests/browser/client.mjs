// authgate's own browser client (`/client.js`) in two tabs of one browser: signing in and
// out in one tab reaches the other (BroadcastChannel, and the `storage` event where there
// is no BroadcastChannel), keep-alive polling notices a session that ended elsewhere, and
// the helpers answer as documented.
import { authUrl, check, equal, launch, serveApp, waitFor } from "./lib.mjs";

const APP = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>client</title></head>
<body><pre id="state">loading</pre>
<script type="module">
import * as auth from "/api/auth/client.js";
window.auth = auth;
const keepAlive = Number(new URLSearchParams(location.search).get("keepAlive") || 0);
auth.configure({ keepAlive });
auth.onSessionChange((session, { reason }) => {
  document.getElementById("state").textContent =
    JSON.stringify({ user: session?.user?.name ?? null, reason });
});
</script></body></html>`;

const CREDENTIALS = { username: "ada", password: "correct horse" };

async function state(page) {
  const text = await page.textContent("#state");
  return text === "loading" ? undefined : JSON.parse(text);
}

async function waitForUser(page, user, what) {
  await page.waitForFunction(
    (user) => {
      const text = document.getElementById("state").textContent;
      return text !== "loading" && JSON.parse(text).user === user;
    },
    user,
    { timeout: 10000 },
  ).catch(async () => {
    throw new Error(`${what}: expected user ${user}, state ${JSON.stringify(await state(page))}`);
  });
}

async function openTabs(browser, { withoutBroadcastChannel = false, query = "", count = 2 } = {}) {
  const context = await browser.newContext();
  if (withoutBroadcastChannel) {
    await context.addInitScript(() => {
      delete window.BroadcastChannel;
    });
  }
  await serveApp(context, { "client.html": { type: "text/html", body: APP } });
  const tabs = [];
  for (let i = 0; i < count; i += 1) {
    tabs.push(await context.newPage());
  }
  for (const tab of tabs) {
    await tab.goto(`${authUrl("").replace("/api/auth", "")}/app/client.html${query}`);
    await waitForUser(tab, null, "a fresh tab");
  }
  return { context, tabs };
}

async function signOutReachesTheOtherTab(browser, options) {
  const { context, tabs } = await openTabs(browser, options);
  const [first, second] = tabs;
  const result = await first.evaluate((c) => window.auth.signIn("password", { ...c, redirect: false }), CREDENTIALS);
  equal(result.ok && result.error, null, `signIn: ${JSON.stringify(result)}`);
  await waitForUser(first, "Ada", "the tab that signed in");
  await waitForUser(second, "Ada", "the other tab after the sign-in");
  const out = await first.evaluate(() => window.auth.signOut({ redirect: false }));
  equal([out.ok, out.error], [true, null], `signOut: ${JSON.stringify(out)}`);
  await waitForUser(first, null, "the tab that signed out");
  await waitForUser(second, null, "the other tab after the sign-out");
  equal((await state(second)).reason, "sync", "how the other tab learnt of it");
  await context.close();
}

export async function client() {
  const browser = await launch();
  try {
    await signOutReachesTheOtherTab(browser, {});
    await signOutReachesTheOtherTab(browser, { withoutBroadcastChannel: true });

    // One tab: a second one polling beside it could notice the end first and tell this
    // one by broadcast ("sync"), so the reason would depend on which poll came first.
    const { context, tabs } = await openTabs(browser, { query: "?keepAlive=1", count: 1 });
    const [tab] = tabs;
    const providers = await tab.evaluate(() => window.auth.getProviders());
    equal(providers.password.type, "credentials", "getProviders");
    const token = await tab.evaluate(() => window.auth.getCsrfToken());
    check(/^[0-9a-f]{64}$/.test(token), `a CSRF token, found ${token}`);
    const wrong = await tab.evaluate(() => window.auth.signIn("password", { username: "ada", password: "nope", redirect: false }));
    equal([wrong.ok, wrong.error, wrong.url], [false, "CredentialsSignin", null], "a wrong password");
    await tab.evaluate((c) => window.auth.signIn("password", { ...c, redirect: false }), CREDENTIALS);
    await waitForUser(tab, "Ada", "signed in");
    // Account and session management.
    const sessions = await tab.evaluate(() => window.auth.getSessions());
    equal([sessions.ok, sessions.data.length, sessions.data[0].current], [true, 1, true], "getSessions");
    const accounts = await tab.evaluate(() => window.auth.getAccounts());
    equal([accounts.ok, accounts.data], [true, []], "getAccounts of a credentials user");
    const unlinked = await tab.evaluate(() => window.auth.unlink("idp"));
    equal([unlinked.ok, unlinked.status, unlinked.error], [false, 404, "NotLinked"], "unlink of an account never linked");
    const updated = await tab.evaluate(() => window.auth.update({ name: "Grace" }));
    equal(updated.user.name, "Grace", "update");
    await waitForUser(tab, "Grace", "after update");
    // The session ends behind the client's back: polling notices. A poll in flight may
    // bring the cookie back (the session is re-issued on read), so it is cleared until the
    // client reports the end.
    await context.clearCookies();
    await waitFor(async () => {
      await context.clearCookies();
      return (await state(tab)).user === null;
    }, "keep-alive polling to report no session after the cookies went");
    equal((await state(tab)).reason, "poll", "how the tab learnt of it");
    await context.close();

    // Without polling, a tab shown again refetches. Headless Chromium shows every tab, so
    // the test announces the change itself; a refetch in flight may bring the cookie back
    // (the session is re-issued on read), so the cookies are cleared until the end shows.
    const focus = await openTabs(browser);
    const [page] = focus.tabs;
    await page.evaluate((c) => window.auth.signIn("password", { ...c, redirect: false }), CREDENTIALS);
    await waitForUser(page, "Ada", "signed in, no polling");
    await waitFor(async () => {
      await focus.context.clearCookies();
      await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
      await new Promise((resolve) => setTimeout(resolve, 200));
      return (await state(page)).user === null;
    }, "the refetch when the tab is shown again");
    equal((await state(page)).reason, "focus", "how the tab learnt of it");
    // Revoking every session from the client ends this tab's session too.
    await page.evaluate((c) => window.auth.signIn("password", { ...c, redirect: false }), CREDENTIALS);
    await waitForUser(page, "Ada", "signed in again");
    const revoked = await page.evaluate(() => window.auth.revokeSessions({ scope: "all" }));
    // Earlier contexts of this run left sessions of the same user (their cookies were
    // cleared, not signed out): all go.
    check(revoked.ok && revoked.data.revoked >= 1, `revokeSessions: ${JSON.stringify(revoked)}`);
    await waitForUser(page, null, "after revoking every session");
    await focus.context.close();
  } finally {
    await browser.close();
  }
}
