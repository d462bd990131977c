// The load of bench/soak: USERS virtual users, each looping until DURATION seconds pass:
// CSRF token, credentials sign-in, five session reads, a session update, sign-out. Prints
// one JSON line: requests by status class, and failed requests (no answer at all).
const base = process.env.BASE;
const users = Number(process.env.USERS ?? 20);
const until = Date.now() + Number(process.env.DURATION) * 1000;
const counts = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, failed: 0 };

function record(status) {
  counts[`${Math.floor(status / 100)}xx`] = (counts[`${Math.floor(status / 100)}xx`] ?? 0) + 1;
}

async function call(jar, path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
  if (cookie) headers.cookie = cookie;
  try {
    const response = await fetch(base + path, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const [name, ...rest] = pair.split("=");
      const value = rest.join("=");
      const expired = attributes.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === "") jar.delete(name.trim());
      else jar.set(name.trim(), value);
    }
    record(response.status);
    return response;
  } catch {
    counts.failed += 1;
    return null;
  }
}

const form = (fields) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

async function user(index) {
  while (Date.now() < until) {
    const jar = new Map();
    const csrf = await call(jar, "/api/auth/csrf");
    if (!csrf) continue;
    const { csrfToken } = await csrf.json();
    await call(jar, "/api/auth/callback/password", form({ csrfToken, username: `user${index}`, password: "pw" }));
    for (let i = 0; i < 5; i++) await (await call(jar, "/api/auth/session"))?.text();
    await call(jar, "/api/auth/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ csrfToken, data: { name: `User ${index}` } }),
    });
    await call(jar, "/api/auth/signout", form({ csrfToken }));
  }
}

await Promise.all(Array.from({ length: users }, (_, index) => user(index)));
console.log(JSON.stringify(counts));
