-- wrk: every request is a full credentials sign-in (POST /callback/<provider>) with the
-- CSRF cookie and token from the environment (BENCH_COOKIE, BENCH_BODY).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
