// The browser tests' entry point: `node run.mjs <scenario>`, with the settings the Rust test
// gives in AUTHGATE_BROWSER_TEST. Prints `ok <step>` per step; exits 1 on the first failure.
import { run } from "./lib.mjs";
import { pages } from "./pages.mjs";
import { signIn } from "./sign_in.mjs";
import { client } from "./client.mjs";
import { nextAuth } from "./nextauth.mjs";

const SCENARIOS = {
  pages: () => pages(),
  "sign-in": () => signIn(),
  client: () => client(),
  "next-auth-v4": () => nextAuth("v4"),
  "next-auth-v5": () => nextAuth("v5"),
};

const name = process.argv[2];
if (!SCENARIOS[name]) {
  console.error(`unknown scenario ${JSON.stringify(name)}; one of: ${Object.keys(SCENARIOS).join(", ")}`);
  process.exit(2);
}
await run([[name, SCENARIOS[name]]]);
