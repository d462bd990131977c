// The Auth.js peer of bench/vs-authjs: @auth/core's `Auth(Request, config)` behind a plain
// Node http server, configured as authgate is in that benchmark: one credentials provider
// (username bench, password pw, a plain comparison), JWT sessions (Auth.js's default JWE),
// and jwt and session callbacks. PORT comes from the environment.
import http from "node:http";
import { Auth } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";

const port = Number(process.env.PORT);
const origin = `http://127.0.0.1:${port}`;

const config = {
  secret: "bench-secret-0123456789abcdef0123456789abcdef",
  trustHost: true,
  basePath: "/api/auth",
  session: { strategy: "jwt" },
  providers: [
    Credentials({
      credentials: { username: {}, password: { type: "password" } },
      authorize: async (credentials) =>
        credentials?.password === "pw"
          ? { id: "bench-user", name: "Bench", email: "bench@example.com" }
          : null,
    }),
  ],
  callbacks: {
    jwt: ({ token }) => token,
    session: ({ session, token }) => {
      session.user.id = token.sub;
      return session;
    },
  },
};

http
  .createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
        else if (value !== undefined) headers.set(name, value);
      }
      const request = new Request(origin + req.url, {
        method: req.method,
        headers,
        body: hasBody ? Buffer.concat(chunks) : undefined,
      });
      const response = await Auth(request, config);
      const out = {};
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out["set-cookie"] = cookies;
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  })
  .listen(port, "127.0.0.1");
