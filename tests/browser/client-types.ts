// Uses every export of the browser client's declarations (src/client/authgate.d.ts) the way
// an app would; `tsc --strict --noEmit` on this file proves the declarations are complete
// and consistent. Run by tests/it/in_chromium.rs.
import {
  VERSION,
  basePath,
  configure,
  getCsrfToken,
  getKnownSession,
  getProviders,
  getSession,
  onSessionChange,
  session,
  signIn,
  signOut,
  update,
  getAccounts,
  getSessions,
  revokeSessions,
  unlink,
  type LinkedAccount,
  type ManagementResult,
  type Session,
  type SessionInfo,
  type SignInResponse,
  type SignOutResponse,
} from "../../src/client/authgate.js";

export async function app(): Promise<string> {
  configure({ keepAlive: 60, refetchOnWindowFocus: true, refetchWhenOffline: false });
  const stop: () => void = onSessionChange((next: Session | null, { reason }) => {
    console.log(reason, next?.user?.email ?? null, next?.expires);
  });
  const current: Session | null = await getSession();
  const known: Session | null | undefined = getKnownSession() ?? session;
  const token: string | undefined = await getCsrfToken();
  const providers = await getProviders();
  const names: string[] = Object.values(providers ?? {}).map((p) => `${p.id}:${p.name}:${p.type}`);
  const result: SignInResponse = await signIn("password", { username: "ada", password: "x", redirect: false });
  const failed: boolean = !result.ok || result.error !== null || result.url === null;
  const updated: Session | null = await update({ name: "Grace" });
  const out: SignOutResponse = await signOut({ redirect: false, callbackUrl: "/" });
  const accounts: ManagementResult<LinkedAccount[]> = await getAccounts();
  const providersLinked: string[] = (accounts.data ?? []).map((a) => `${a.provider}@${a.linkedAt ?? "?"}`);
  const left = await unlink("github", { providerAccountId: "42" });
  const sessions: SessionInfo[] = (await getSessions()).data ?? [];
  const others = await revokeSessions({ scope: "others" });
  const one = await revokeSessions({ id: sessions[0]?.id ?? "" });
  const revoked: number = (others.data?.revoked ?? 0) + (one.data?.revoked ?? 0);
  const navigating: void = await signIn();
  stop();
  return [VERSION, basePath, current, known, token, names, failed, updated, out.ok, out.error, navigating,
    providersLinked, left.error, sessions.map((s) => s.current), revoked].join();
}
