/*
 * authgate browser client.
 *
 * A small, dependency-free ES module that talks to an authgate server (an
 * Auth.js-compatible auth server). It is served by the server itself at
 * `{basePath}/client.js`, so by default it finds the server from its own URL.
 *
 * It offers sign-in / sign-out helpers, session reading and updating, change
 * notifications, optional keep-alive polling, refetch on window focus and
 * session synchronisation between tabs of the same origin.
 */

/** Version of this client module's API. */
export const VERSION = "1";

const CHANNEL_NAME = "authgate.session";
const STORAGE_KEY = "authgate.session.message";
const TAB_ID = randomId();

/**
 * Base URL of the auth endpoints, without a trailing slash. Defaults to the
 * directory this module was loaded from; change it with `configure()`.
 * @type {string}
 */
export let basePath = new URL(".", import.meta.url).href.replace(/\/+$/, "");

/**
 * The last known session: `undefined` before the first fetch, `null` when
 * signed out. This is a live binding, it always holds the current value.
 * @type {object | null | undefined}
 */
export let session = undefined;

const settings = { keepAlive: 0, refetchOnWindowFocus: true, refetchWhenOffline: false };
const listeners = new Set();
let knownJson; // JSON string of `session`, undefined until first set
let generation = 0; // bumped whenever the session is set authoritatively
let inflight = null; // { promise, generation } of the running GET /session
let running = false; // background behaviour active
let timer = null;
let channel; // BroadcastChannel, null when unavailable, undefined until tried

function randomId() {
  try {
    if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  } catch { /* insecure context */ }
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

/** An empty object (or anything that is not an object) means "no session". */
function normalize(value) {
  return value && typeof value === "object" && Object.keys(value).length > 0 ? value : null;
}

/** Store a session value; notify the listeners when it changed. */
function setSession(value, reason) {
  const json = JSON.stringify(value);
  if (json === knownJson) return false;
  knownJson = json;
  session = value;
  for (const listener of [...listeners]) {
    try {
      listener(value, { reason });
    } catch (error) {
      console.error("[authgate] session listener failed:", error);
    }
  }
  return true;
}

/** Set the session from an authoritative answer (update, sign out). */
function commitSession(value, reason) {
  generation += 1;
  return setSession(value, reason);
}

async function getJson(path, what) {
  try {
    const response = await fetch(`${basePath}${path}`, {
      credentials: "include",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return { ok: true, data: await response.json() };
  } catch (error) {
    console.error(`[authgate] could not load ${what}:`, error);
    return { ok: false, data: null };
  }
}

async function postForm(path, fields) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) body.append(key, String(value));
  }
  const response = await fetch(`${basePath}${path}`, {
    method: "POST",
    credentials: "include",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Auth-Return-Redirect": "1",
      Accept: "application/json",
    },
    body,
  });
  const data = await response.json().catch(() => null);
  return { response, data, url: data && typeof data.url === "string" ? data.url : null };
}

/** A management answer: `{ ok, status, data, error, message }`, never a rejection. */
async function manage(request) {
  try {
    const { response, data } = await request();
    const failed = !response.ok;
    return {
      ok: !failed,
      status: response.status,
      data: failed ? null : data,
      error: failed ? (data && data.error) || `HTTP ${response.status}` : null,
      message: failed ? (data && data.message) || null : null,
    };
  } catch (error) {
    return { ok: false, status: 0, data: null, error: "NetworkError", message: String(error) };
  }
}

async function getManaged(path) {
  const response = await fetch(`${basePath}${path}`, {
    credentials: "include",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  return { response, data: await response.json().catch(() => null) };
}

/**
 * One GET /session at a time. A request started before the session was last
 * set authoritatively is stale: later callers wait for it, then start anew.
 */
function fetchSession() {
  if (inflight && inflight.generation === generation) return inflight.promise;
  const previous = inflight ? inflight.promise : Promise.resolve();
  const entry = { generation, promise: null };
  entry.promise = previous
    .then(() => getJson("/session", "the session"))
    .then((result) => ({ ...result, generation: entry.generation }))
    .finally(() => {
      if (inflight === entry) inflight = null;
    });
  inflight = entry;
  return entry.promise;
}

async function refresh(reason, shouldBroadcast, trigger = "getSession") {
  const result = await fetchSession();
  if (!result.ok) return null;
  if (result.generation !== generation) return session ?? null;
  const value = normalize(result.data);
  if (setSession(value, reason) && shouldBroadcast) broadcast(trigger);
  return value;
}

/**
 * Go to `url`, which came from the server or the caller. Only http(s) URLs are followed
 * (never `javascript:` or `data:`); anything else goes to the page itself.
 */
function navigate(url) {
  let target;
  try {
    target = new URL(url, window.location.href);
  } catch {
    target = null;
  }
  const safe = target && (target.protocol === "http:" || target.protocol === "https:");
  const href = safe ? target.href : window.location.href;
  window.location.href = href;
  if (href.includes("#")) window.location.reload();
  return new Promise(() => {});
}

function readError(url) {
  try {
    const params = new URL(url, window.location.href).searchParams;
    return { error: params.get("error"), code: params.get("code") };
  } catch {
    return { error: null, code: null };
  }
}

/* ---------- cross-tab messages ---------- */

function getChannel() {
  if (channel === undefined) {
    try {
      channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL_NAME) : null;
    } catch {
      channel = null;
    }
  }
  return channel;
}

function broadcast(trigger) {
  const message = { event: "session", data: { trigger }, timestamp: Date.now(), id: TAB_ID };
  const bc = getChannel();
  try {
    if (bc) bc.postMessage(message);
    else localStorage.setItem(STORAGE_KEY, JSON.stringify(message));
  } catch { /* storage unavailable or full: nothing to tell */ }
}

function receive(message) {
  if (!message || message.event !== "session" || message.id === TAB_ID) return;
  const trigger = message.data && message.data.trigger;
  if (trigger === "signout") commitSession(null, "sync");
  refresh("sync", false);
}

function onChannelMessage(event) {
  receive(event.data);
}

function onStorage(event) {
  if (event.key !== STORAGE_KEY || !event.newValue) return;
  try {
    receive(JSON.parse(event.newValue));
  } catch { /* not one of ours */ }
}

/* ---------- background behaviour ---------- */

function isVisible() {
  return typeof document === "undefined" || document.visibilityState === "visible";
}

function onVisibilityChange() {
  if (settings.refetchOnWindowFocus && document.visibilityState === "visible") refresh("focus", true);
}

function poll() {
  const online = settings.refetchWhenOffline || typeof navigator === "undefined" || navigator.onLine !== false;
  if (isVisible() && online) refresh("poll", true);
}

function restartTimer() {
  if (timer !== null) clearInterval(timer);
  timer = running && settings.keepAlive > 0 ? setInterval(poll, settings.keepAlive * 1000) : null;
}

/** Start or stop the background behaviour; `force` restarts the timer anyway. */
function updateBackground(force = false) {
  const wanted = listeners.size > 0 || settings.keepAlive > 0;
  if (wanted === running) {
    if (force) restartTimer();
    return;
  }
  running = wanted;
  const method = wanted ? "addEventListener" : "removeEventListener";
  if (typeof document !== "undefined") document[method]("visibilitychange", onVisibilityChange);
  const bc = getChannel();
  if (bc) bc[method]("message", onChannelMessage);
  else if (typeof window !== "undefined") window[method]("storage", onStorage);
  restartTimer();
}

/* ---------- public API ---------- */

/**
 * Change client settings. Can be called again at any time.
 * @param {{basePath?: string, keepAlive?: number, refetchOnWindowFocus?: boolean, refetchWhenOffline?: boolean}} [options]
 */
export function configure(options = {}) {
  if (typeof options.basePath === "string") basePath = options.basePath.replace(/\/+$/, "");
  if (options.keepAlive !== undefined) {
    const seconds = Number(options.keepAlive);
    settings.keepAlive = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  }
  if (options.refetchOnWindowFocus !== undefined) settings.refetchOnWindowFocus = Boolean(options.refetchOnWindowFocus);
  if (options.refetchWhenOffline !== undefined) settings.refetchWhenOffline = Boolean(options.refetchWhenOffline);
  updateBackground(true);
}

/**
 * Fetch the current session from the server. Never rejects: failures are
 * logged and resolve to `null`.
 * @param {{broadcast?: boolean}} [options] `broadcast` (default true) tells other tabs when the session changed.
 * @returns {Promise<object | null>}
 */
export function getSession(options = {}) {
  return refresh("fetch", options.broadcast !== false);
}

/** @returns {object | null | undefined} the last known session. */
export function getKnownSession() {
  return session;
}

/** @returns {Promise<string | undefined>} a CSRF token for POST requests. */
export async function getCsrfToken() {
  const { data } = await getJson("/csrf", "the CSRF token");
  return data && typeof data.csrfToken === "string" ? data.csrfToken : undefined;
}

/** @returns {Promise<object | null>} the configured providers, keyed by id. */
export async function getProviders() {
  const { data } = await getJson("/providers", "the providers");
  return data && typeof data === "object" ? data : null;
}

/**
 * Sign in with a provider. Without a (known) provider the browser is sent to
 * the sign-in page. With `redirect: false` the outcome is returned instead of
 * navigating; otherwise the returned promise never settles.
 * @param {string} [provider] provider id
 * @param {{callbackUrl?: string, redirect?: boolean, [field: string]: unknown}} [options]
 * @param {string | string[][] | Record<string, string> | URLSearchParams} [authorizationParams]
 */
export async function signIn(provider, options = {}, authorizationParams) {
  const { callbackUrl = window.location.href, redirect = true, ...fields } = options;
  const signinPage = `${basePath}/signin?callbackUrl=${encodeURIComponent(callbackUrl)}`;
  if (!provider) return navigate(signinPage);
  const providers = await getProviders();
  if (!providers || !Object.prototype.hasOwnProperty.call(providers, provider)) return navigate(signinPage);

  const type = providers[provider].type;
  const action = type === "credentials" ? "callback" : "signin";
  const query = new URLSearchParams(authorizationParams ?? "").toString();
  const path = `/${action}/${encodeURIComponent(provider)}${query ? `?${query}` : ""}`;
  const csrfToken = (await getCsrfToken()) ?? "";
  const answer = await postForm(path, { ...fields, csrfToken, callbackUrl, json: "true" });
  const url = answer.url ?? `${basePath}/error?error=Configuration`;

  if (redirect !== false) return navigate(url);
  const { error, code } = readError(url);
  const ok = answer.response.ok && !error;
  if (ok && type !== "email") await refresh("fetch", true, "signin");
  return { ok, status: answer.response.status, error: error || null, code: code || null, url: error ? null : url };
}

/**
 * Sign out. Once the server confirmed it, the known session is cleared and the
 * other tabs are told. With `redirect: false` resolves to `{ ok, error, url }`;
 * otherwise it never settles.
 * @param {{callbackUrl?: string, redirect?: boolean}} [options]
 */
export async function signOut(options = {}) {
  const { callbackUrl = window.location.href, redirect = true } = options;
  const csrfToken = (await getCsrfToken()) ?? "";
  const answer = await postForm("/signout", { csrfToken, callbackUrl, json: "true" });
  const { error } = answer.url ? readError(answer.url) : { error: "SignOut" };
  const ok = answer.response.ok && !error;
  // Only a sign-out the server confirmed ends the session here and in the other tabs.
  if (ok) {
    commitSession(null, "signout");
    broadcast("signout");
  }
  const url = answer.url ?? `${basePath}/error?error=SignOut`;
  if (redirect !== false) return navigate(url);
  return { ok, error: error || null, url };
}

/**
 * Send data to the server to update the session. Never rejects: failures
 * are logged, leave the known session as is and resolve to `null`.
 * @param {unknown} [data]
 * @returns {Promise<object | null>}
 */
export async function update(data) {
  try {
    const csrfToken = await getCsrfToken();
    const response = await fetch(`${basePath}/session`, {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ csrfToken, data }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const value = normalize(await response.json());
    commitSession(value, "update");
    broadcast("update");
    return value;
  } catch (error) {
    console.error("[authgate] could not update the session:", error);
    return null;
  }
}

/**
 * The signed-in user's linked accounts: `{ ok, data: [{provider, name, type, linkedAt}] }`.
 * @returns {Promise<object>}
 */
export function getAccounts() {
  return manage(() => getManaged("/accounts"));
}

/**
 * Unlink the user's account of `provider` (with `providerAccountId` when several are
 * linked). The server refuses to remove the last way to sign in (`LastSignInMethod`).
 * @param {string} provider
 * @param {{providerAccountId?: string}} [options]
 * @returns {Promise<object>}
 */
export async function unlink(provider, options = {}) {
  const csrfToken = (await getCsrfToken()) ?? "";
  return manage(() =>
    postForm(`/unlink/${encodeURIComponent(provider)}`, {
      csrfToken,
      providerAccountId: options.providerAccountId,
    }),
  );
}

/**
 * The signed-in user's active sessions:
 * `{ ok, data: [{id, kind, createdAt, lastSeen, expires, userAgent, current}] }`.
 * @returns {Promise<object>}
 */
export function getSessions() {
  return manage(() => getManaged("/sessions"));
}

/**
 * Revoke sessions: `{ id }` for one, `{ scope: "others" }` for every other one, or
 * `{ scope: "all" }`. When this tab's session ends, the known session becomes `null` and
 * the other tabs are told.
 * @param {{id?: string, scope?: "others" | "all"}} which
 * @returns {Promise<object>}
 */
export async function revokeSessions(which = {}) {
  const csrfToken = (await getCsrfToken()) ?? "";
  const result = await manage(() =>
    postForm("/sessions/revoke", { csrfToken, id: which.id, scope: which.scope }),
  );
  if (result.ok) await refresh("fetch", true);
  return result;
}

/**
 * Call `listener(session, { reason })` whenever the known session changes.
 * The first listener fetches the session and starts background refetching.
 * @param {(session: object | null, info: {reason: string}) => void} listener
 * @returns {() => void} a function that removes the listener
 */
export function onSessionChange(listener) {
  if (typeof listener !== "function") throw new TypeError("onSessionChange expects a function");
  listeners.add(listener);
  if (listeners.size === 1) {
    updateBackground();
    refresh("fetch", true);
  }
  return () => {
    if (listeners.delete(listener)) updateBackground();
  };
}
