/**
 * Type declarations for the authgate browser client (`{basePath}/client.js`).
 */

/** Version of the client module's API. */
export declare const VERSION: "1";

/** A signed-in session as answered by `GET {basePath}/session`. */
export interface Session {
  user?: {
    name?: string | null;
    email?: string | null;
    image?: string | null;
    [key: string]: unknown;
  };
  /** Expiry time, ISO 8601. */
  expires: string;
  [key: string]: unknown;
}

/** A provider as listed by `GET {basePath}/providers`. */
export interface ClientSafeProvider {
  id: string;
  name: string;
  type: "oauth" | "oidc" | "email" | "credentials";
  signinUrl: string;
  callbackUrl: string;
}

/** Extra query parameters for the provider's authorization request. */
export type AuthorizationParams = string | string[][] | Record<string, string> | URLSearchParams;

export interface SignInOptions {
  /** Where to go after signing in. Defaults to the current page. */
  callbackUrl?: string;
  /** Navigate to the answered URL (default `true`). */
  redirect?: boolean;
  /** Any other field (e.g. `username`, `password`, `email`) is sent to the provider. */
  [field: string]: unknown;
}

export interface SignInResponse {
  /** True when the request succeeded and the answer carries no error. */
  ok: boolean;
  /** HTTP status of the answer. */
  status: number;
  /** Error code from the answered URL, e.g. `"CredentialsSignin"`. */
  error: string | null;
  /** Additional detail code from the answered URL, if any. */
  code: string | null;
  /** The answered URL; `null` when there was an error. */
  url: string | null;
}

export interface SignOutOptions {
  /** Where to go after signing out. Defaults to the current page. */
  callbackUrl?: string;
  /** Navigate to the answered URL (default `true`). */
  redirect?: boolean;
}

export interface SignOutResponse {
  /** Whether the server ended the session. */
  ok: boolean;
  /** The error code the server answered with (e.g. `MissingCSRF`), or `null`. */
  error: string | null;
  url: string;
}

export interface ConfigureOptions {
  /** Base URL of the auth endpoints. Defaults to the directory the module was loaded from. */
  basePath?: string;
  /** Seconds between background session refetches; `0` disables (default). */
  keepAlive?: number;
  /** Refetch the session when the page becomes visible again (default `true`). */
  refetchOnWindowFocus?: boolean;
  /** Keep polling while the browser reports being offline (default `false`). */
  refetchWhenOffline?: boolean;
}

export interface GetSessionOptions {
  /** Tell other tabs when the session changed (default `true`). */
  broadcast?: boolean;
}

/** Why the known session changed. */
export type SessionChangeReason = "fetch" | "update" | "signout" | "sync" | "poll" | "focus";

export type SessionChangeListener = (
  session: Session | null,
  info: { reason: SessionChangeReason },
) => void;

/** Base URL of the auth endpoints, without a trailing slash (live binding). */
export declare let basePath: string;

/** Last known session: `undefined` before the first fetch (live binding). */
export declare let session: Session | null | undefined;

/** Change client settings; may be called again (restarts the keep-alive timer). */
export declare function configure(options?: ConfigureOptions): void;

/** Fetch the session. Never rejects: failures are logged and resolve to `null`. */
export declare function getSession(options?: GetSessionOptions): Promise<Session | null>;

/** The last known session: `undefined` before the first fetch. */
export declare function getKnownSession(): Session | null | undefined;

export declare function getCsrfToken(): Promise<string | undefined>;

export declare function getProviders(): Promise<Record<string, ClientSafeProvider> | null>;

/**
 * Sign in with a provider. Without a known provider id the browser is sent to
 * the sign-in page and the promise never settles.
 */
export declare function signIn(
  provider: string | undefined,
  options: SignInOptions & { redirect: false },
  authorizationParams?: AuthorizationParams,
): Promise<SignInResponse>;
export declare function signIn(
  provider?: string,
  options?: SignInOptions,
  authorizationParams?: AuthorizationParams,
): Promise<void>;

/** Sign out, clear the known session and tell other tabs. */
export declare function signOut(options: SignOutOptions & { redirect: false }): Promise<SignOutResponse>;
export declare function signOut(options?: SignOutOptions): Promise<void>;

/** Update the session on the server. Never rejects: failures resolve to `null`. */
export declare function update(data?: unknown): Promise<Session | null>;

/** Be told of session changes; returns a function that removes the listener. */
export declare function onSessionChange(listener: SessionChangeListener): () => void;

/** The answer of a management call; it never rejects. */
export interface ManagementResult<T> {
  ok: boolean;
  /** The HTTP status (0 when the server could not be reached). */
  status: number;
  data: T | null;
  /** `SessionRequired`, `NoStore`, `LastSignInMethod`, `MissingCSRF`, ... or `null`. */
  error: string | null;
  message: string | null;
}

export interface LinkedAccount {
  provider: string;
  name: string;
  type: "oauth" | "oidc" | "email" | "credentials" | string;
  /** ISO time, or `null` for accounts linked before it was recorded. */
  linkedAt: string | null;
}

export interface SessionInfo {
  /** Opaque; pass it to `revokeSessions({ id })`. */
  id: string;
  kind: "database" | "jwt";
  createdAt: string | null;
  lastSeen: string | null;
  expires: string;
  userAgent: string | null;
  /** This browser's session. */
  current: boolean;
}

/** The signed-in user's linked accounts. */
export declare function getAccounts(): Promise<ManagementResult<LinkedAccount[]>>;
/** Unlink an account; the answer holds the accounts that remain. */
export declare function unlink(
  provider: string,
  options?: { providerAccountId?: string },
): Promise<ManagementResult<LinkedAccount[]>>;
/** The signed-in user's active sessions. */
export declare function getSessions(): Promise<ManagementResult<SessionInfo[]>>;
/** Revoke one session, every other one, or all. */
export declare function revokeSessions(
  which: { id: string } | { scope: "others" | "all" },
): Promise<ManagementResult<{ revoked: number }>>;
