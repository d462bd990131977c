// Verifies an authgate access token with an independent JOSE library (jose from npm):
// `node verify-token.mjs <jwks url> <issuer> <audience> <token>` prints the payload as JSON,
// or fails. Run by tests/it/access_tokens.rs.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, audience, token] = process.argv.slice(2);
const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(jwksUrl)), {
  issuer,
  audience,
  typ: "at+jwt",
});
console.log(JSON.stringify({ header: protectedHeader, payload }));
