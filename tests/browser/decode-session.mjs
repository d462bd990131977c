// Reads an authgate session token with Auth.js's own `decode` (@auth/core/jwt), as an app
// sharing authgate's secret would: `node decode-session.mjs <salt> <token> <secret>...`
// prints the payload as JSON, or fails. Run by tests/it/jwt_keys.rs.
import { decode } from "@auth/core/jwt";

const [salt, token, ...secrets] = process.argv.slice(2);
const payload = await decode({ token, salt, secret: secrets });
if (!payload) throw new Error("Auth.js read no payload");
console.log(JSON.stringify(payload));
