// A real OpenID Provider (panva/oidc-provider) for authgate's integration tests.
//
// Usage: node tests/idp/idp.mjs <config.json>
//
// config.json:
//   {
//     "port": 0,                         // 127.0.0.1:<port>; 0 (the default) picks a free one
//     "clients": [ { ...oidc-provider client metadata... } ],
//     "accessTokenTtl": 3600,            // optional, seconds
//     "idTokenTtl": 3600                 // optional, seconds
//   }
//
// Prints exactly one line to stdout, `ready http://127.0.0.1:<port>`, once
// listening (with the port it bound); everything else (oidc-provider notices,
// errors) goes to stderr.
// See README.md in this directory for the HTTP conversation of a sign-in.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import { Provider } from 'oidc-provider';

// oidc-provider prints its notices with console.info (stdout); keep stdout for
// the single `ready` line so a test can wait for it.
console.info = console.error;
console.log = console.error;

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node idp.mjs <config.json>');
  process.exit(2);
}

const config = JSON.parse(readFileSync(configPath, 'utf8'));
const port = Number(config.port ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`idp: config.port must be a TCP port number, got ${JSON.stringify(config.port)}`);
  process.exit(2);
}
const clients = Array.isArray(config.clients) ? config.clients : [];
const accessTokenTtl = Number(config.accessTokenTtl ?? 3600);
const idTokenTtl = Number(config.idTokenTtl ?? 3600);

// Bound before the provider exists: with port 0 the issuer names the port the
// kernel picked, and nothing else can take it in between.
const server = createServer();
server.on('error', (err) => {
  console.error(`idp: ${err.message}`);
  process.exit(1);
});
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

// Fresh signing keys for every run. The RSA key serves RS256 (the default
// id_token_signed_response_alg) and PS256; the P-256 key serves ES256 for
// clients that ask for it.
function signingKey(type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), use: 'sig', kid: randomUUID() };
}
const jwks = {
  keys: [
    signingKey('rsa', { modulusLength: 2048 }),
    signingKey('ec', { namedCurve: 'P-256' }),
  ],
};

// A login `unverified-<name>` claims `<name>@example.com` without having verified it, as
// a self-registration IdP allows: authgate must never link on such an email.
function findAccount(_ctx, id) {
  const login = String(id);
  const unverified = login.startsWith('unverified-');
  const name = unverified ? login.slice('unverified-'.length) : login;
  return {
    accountId: login,
    async claims(_use, _scope, _claims, _rejected) {
      return {
        sub: login,
        email: `${name}@example.com`,
        email_verified: !unverified,
        name: `User ${login}`,
        picture: `https://example.com/${login}.png`,
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients,
  jwks,
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'picture'],
  },
  // Put the scope-requested claims (email, name, ...) into the id_token too,
  // not only into the userinfo response.
  conformIdTokenClaims: false,
  cookies: {
    // Fixed development keys: this provider only ever runs in tests.
    keys: ['authgate-test-idp-cookie-key-1', 'authgate-test-idp-cookie-key-2'],
  },
  features: {
    // Built-in login + consent pages, completed with plain form POSTs.
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    // RFC 9207 `iss` in authorization responses: always on in oidc-provider
    // 8.x (the former features.issAuthResp flag is gone); discovery says
    // authorization_response_iss_parameter_supported: true.
  },
  // PKCE (S256 only) is accepted whenever code_challenge is sent, but never
  // required, so tests can also run a confidential client without it.
  pkce: {
    methods: ['S256'],
    required: () => false,
  },
  // Issue refresh tokens to every client allowed the refresh_token grant,
  // without needing offline_access / prompt=consent.
  issueRefreshToken: async (_ctx, client, _code) => client.grantTypeAllowed('refresh_token'),
  // Each refresh returns a new refresh_token (the used one is consumed).
  rotateRefreshToken: true,
  // Refresh tokens do not die with the IdP browser session.
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: accessTokenTtl,
    IdToken: idTokenTtl,
    AuthorizationCode: 600,
    Interaction: 3600,
    Grant: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
  },
  // Errors that cannot be redirected back to the client (unknown client_id,
  // unregistered redirect_uri, ...) come back as JSON instead of an HTML page.
  async renderError(ctx, out, _error) {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.proxy = false;

// The OAuth error responses are deliberately terse ("grant request is
// invalid"); log the reason to stderr so a failing test can tell why.
for (const event of [
  'authorization.error', 'grant.error', 'userinfo.error', 'revocation.error',
  'server_error', 'end_session.error', 'introspection.error',
]) {
  provider.on(event, (ctx, err) => {
    const detail = err?.error_detail ? ` (${err.error_detail})` : '';
    console.error(`idp: ${event} ${ctx?.method ?? ''} ${ctx?.path ?? ''}: ${err?.message ?? err}${detail}`);
  });
}

// ---------------------------------------------------------------------------
// Token-endpoint request counter, kept ahead of the provider's own routing.

const stats = {};
function resetStats() {
  for (const key of Object.keys(stats)) delete stats[key];
  stats.authorization_code = 0;
  stats.refresh_token = 0;
}
resetStats();

async function readRawBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__stats' && ctx.method === 'GET') {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...stats };
    return;
  }
  if (ctx.path === '/__stats/reset' && ctx.method === 'POST') {
    resetStats();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...stats };
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
    // Read the body here and hand it on as ctx.req.body; oidc-provider parses
    // an already-read body from there.
    const raw = await readRawBody(ctx.req);
    ctx.req.body = raw;
    const grantType = new URLSearchParams(raw).get('grant_type');
    if (grantType) stats[grantType] = (stats[grantType] ?? 0) + 1;
  }
  await next();
});

// ---------------------------------------------------------------------------

server.on('request', provider.callback());
process.stdout.write(`ready ${issuer}\n`);

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
