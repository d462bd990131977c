// The real `next-auth/react` clients of next-auth v4 and v5 (beta), bundled from npm with
// esbuild into a page same-origin with authgate: sign in with credentials without a
// redirect (a wrong password first), read the session, sign out.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { authUrl, check, equal, launch, serveApp, settings } from "./lib.mjs";

const PACKAGES = { v4: "next-auth-v4/react", v5: "next-auth-v5/react" };

async function bundle(version) {
  const result = await build({
    stdin: {
      contents: `export { signIn, signOut, getSession, getCsrfToken, getProviders } from "${PACKAGES[version]}";`,
      resolveDir: fileURLToPath(new URL(".", import.meta.url)),
    },
    bundle: true,
    write: false,
    format: "iife",
    globalName: "NextAuth",
    platform: "browser",
    // next-auth reads NEXTAUTH_URL and friends from process.env; a browser has none.
    define: { "process.env": "{}", "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
  });
  return result.outputFiles[0].text;
}

const PAGE = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>next-auth</title>
<script src="/app/next-auth.js"></script></head><body></body></html>`;

export async function nextAuth(version) {
  const script = await bundle(version);
  const browser = await launch();
  try {
    const context = await browser.newContext();
    await serveApp(context, {
      "next-auth.html": { type: "text/html", body: PAGE },
      "next-auth.js": { type: "text/javascript", body: script },
    });
    const page = await context.newPage();
    await page.goto(`${settings.base}/app/next-auth.html`);
    const providers = await page.evaluate(() => NextAuth.getProviders());
    equal(providers?.password?.type, "credentials", `${version} getProviders`);
    const token = await page.evaluate(() => NextAuth.getCsrfToken());
    check(/^[0-9a-f]{64}$/.test(token), `${version} getCsrfToken, found ${token}`);

    const wrong = await page.evaluate(() =>
      NextAuth.signIn("password", { username: "ada", password: "nope", redirect: false }),
    );
    equal([wrong.error, wrong.url], ["CredentialsSignin", null], `${version} a wrong password: ${JSON.stringify(wrong)}`);
    equal(await page.evaluate(() => NextAuth.getSession()), null, `${version} no session after it`);

    const right = await page.evaluate(() =>
      NextAuth.signIn("password", { username: "ada", password: "correct horse", redirect: false }),
    );
    check(!right.error && right.ok, `${version} signIn without a redirect: ${JSON.stringify(right)}`);
    const session = await page.evaluate(() => NextAuth.getSession());
    equal(session?.user?.name, "Ada", `${version} the session's user`);

    await page.evaluate(() => NextAuth.signOut({ redirect: false }));
    const after = await page.evaluate(() => NextAuth.getSession());
    check(after === null || Object.keys(after).length === 0, `${version} no session after signOut, found ${JSON.stringify(after)}`);
    const cookie = (await context.cookies()).find((c) => c.name.endsWith("session-token"));
    equal(cookie, undefined, `${version} the session cookie after signOut`);
    await context.close();
  } finally {
    await browser.close();
  }
}
