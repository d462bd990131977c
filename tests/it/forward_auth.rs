//! Forward-auth behind real proxies: Debian's nginx (`auth_request`) and Caddy
//! (`forward_auth`) in front of an echo upstream, configured as the README's recipes. A
//! visitor without a session is sent to sign in and comes back to the original URL on the
//! protected host; the upstream then sees the identity headers. Rules allow anonymous
//! paths, deny others, and run a script; forged headers never reach the upstream; a
//! callbackUrl to a host not allowed lands on `url`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::proxies::{EchoUpstream, Proxy};
use crate::support::{Browser, ConfigDir, Server, client, fixture_config, free_port};

fn config(port: u16, allowed: &[u16], extra: &str) -> String {
    let hosts: Vec<String> = allowed
        .iter()
        .map(|p| format!("\"127.0.0.1:{p}\""))
        .collect();
    format!(
        "{}redirect:
  allowedHosts: [{}]
forwardAuth:
  redirectToSignIn: true
{extra}  rules:
    - paths: [\"/public/*\"]
      access: anonymous
    - paths: [\"/admin/*\"]
      access: deny
    - paths: [\"/team/*\"]
      access: script
      authorize: |
        if user != () && user.email.ends_with(\"@example.com\") {{
          #{{ allow: true, headers: #{{ \"X-Auth-Request-Role\": user.role,
              \"X-Auth-Request-User\": \"root\", \"Set-Cookie\": \"planted=1\" }} }}
        }} else {{ false }}
",
        fixture_config("credentials.yaml", port),
        hosts.join(", ")
    )
    .replace("{port}", &port.to_string())
}

struct Stage {
    server: Server,
    nginx: Proxy,
    caddy: Proxy,
    _upstream: EchoUpstream,
    _dir: ConfigDir,
}

fn stage() -> Stage {
    let port = free_port();
    let (nginx_port, caddy_port) = (Proxy::pick_port(), Proxy::pick_port());
    let base = crate::support::base_config(port, "");
    let dir = ConfigDir::new(&format!(
        "{base}{}",
        config(port, &[nginx_port, caddy_port], "")
    ));
    let server = Server::start(&dir.config_path(), port);
    let upstream = EchoUpstream::start();
    let nginx = Proxy::nginx(nginx_port, &server.base, upstream.port);
    let caddy = Proxy::caddy(caddy_port, &format!("127.0.0.1:{port}"), upstream.port);
    Stage {
        server,
        nginx,
        caddy,
        _upstream: upstream,
        _dir: dir,
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

async fn get(browser: &Browser, url: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut request = browser.http.get(url);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Signs in with the credentials form, asking for `callback_url`; where authgate sends the
/// browser.
async fn sign_in_to(browser: &Browser, callback_url: &str) -> String {
    let csrf = browser.csrf().await;
    let response = browser
        .sign_in(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", &csrf),
            ("callbackUrl", callback_url),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    location(&response)
}

async fn echoed(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The whole visit through `proxy`: sign in, come back, rules, forged headers, sign out.
async fn a_visit_through(
    proxy: &Proxy,
    server: &Server,
    sign_in_answer: StatusCode,
    copies_role: bool,
) {
    let browser = Browser::new(server);
    let private = format!("{}/private/page", proxy.base);
    let first = get(&browser, &private, &[]).await;
    assert_eq!(first.status(), sign_in_answer);
    let to_sign_in = location(&first);
    assert!(
        to_sign_in.starts_with(&format!("{}/api/auth/signin?callbackUrl=", server.base)),
        "{to_sign_in}"
    );
    let callback: String = url::Url::parse(&to_sign_in)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "callbackUrl")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    assert_eq!(callback, private);
    // Signed in, the browser goes back to the page on the protected host.
    assert_eq!(sign_in_to(&browser, &callback).await, private);
    let seen = echoed(get(&browser, &private, &[("X-Auth-Request-User", "mallory")]).await).await;
    let headers = &seen["headers"];
    assert_eq!(headers["x-auth-request-user"], "42", "{seen}");
    assert_eq!(headers["x-auth-request-email"], "ada@example.com");
    assert_eq!(headers["x-auth-request-name"], "Ada");
    assert_eq!(seen["path"], "/private/page");

    // A script rule adds a header (copied where the recipe copies it); a deny rule refuses.
    let team = echoed(get(&browser, &format!("{}/team/x", proxy.base), &[]).await).await;
    if copies_role {
        assert_eq!(team["headers"]["x-auth-request-role"], "admin", "{team}");
    }
    // A script cannot set the identity headers.
    assert_eq!(team["headers"]["x-auth-request-user"], "42", "{team}");

    // Paths that could mean another path to the upstream than to the rules are refused;
    // so is a client's attempt to describe the request itself.
    for path in [
        "/public/%2e%2e/admin/x",
        "/public/..%2fadmin/x",
        "/public/x/%2e%2e/%2e%2e/admin/x",
        "/admin%2Fx",
        "/admin;x/y",
    ] {
        let response = get(&Browser::new(server), &format!("{}{path}", proxy.base), &[]).await;
        assert_ne!(response.status(), StatusCode::OK, "{path}");
    }
    for (name, value) in [
        ("X-Original-URI", "/public/x"),
        ("X-Forwarded-Uri", "/public/x"),
    ] {
        let response = get(
            &Browser::new(server),
            &format!("{}/admin/x", proxy.base),
            &[(name, value), ("X-Original-Method", "GET")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
    }
    let denied = get(&browser, &format!("{}/admin/x", proxy.base), &[]).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    // Anonymous paths pass without a session, and a client's identity headers never reach
    // the upstream.
    let stranger = Browser::new(server);
    let public = echoed(
        get(
            &stranger,
            &format!("{}/public/a.css", proxy.base),
            &[
                ("X-Auth-Request-User", "admin"),
                ("X-Auth-Request-Email", "admin@example.com"),
                ("X-Auth-Request-Name", "Admin"),
                ("X-Auth-Request-Role", "admin"),
                ("X_Auth_Request_User", "admin"),
            ],
        )
        .await,
    )
    .await;
    let forged: Vec<(&String, &Value)> = public["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, value)| {
            (name.starts_with("x-auth-request") || name.starts_with("x_auth_request"))
                && *value != ""
        })
        .collect();
    assert!(forged.is_empty(), "{public}");
    // Without a session the script denies.
    let team = get(&stranger, &format!("{}/team/x", proxy.base), &[]).await;
    assert_eq!(team.status(), StatusCode::FORBIDDEN);

    // Signed out, the page asks for a session again.
    let csrf = browser.csrf().await;
    browser
        .http
        .post(browser.url("/signout"))
        .form(&[("csrfToken", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let again = get(&browser, &private, &[]).await;
    assert_eq!(again.status(), sign_in_answer);
}

#[tokio::test]
async fn nginx_auth_request_signs_in_and_passes_identity_headers() {
    let stage = stage();
    // nginx turns the 401 into the sign-in redirect (`error_page 401`).
    a_visit_through(&stage.nginx, &stage.server, StatusCode::FOUND, true).await;
}

#[tokio::test]
async fn caddy_forward_auth_signs_in_and_passes_identity_headers() {
    let stage = stage();
    // authgate answers Caddy's forward_auth with the redirect itself (redirectToSignIn).
    a_visit_through(&stage.caddy, &stage.server, StatusCode::FOUND, false).await;
}

#[tokio::test]
async fn a_callback_url_to_a_host_not_allowed_lands_on_url() {
    let stage = stage();
    let browser = Browser::new(&stage.server);
    for callback in [
        "http://evil.example/".to_string(),
        format!("http://127.0.0.1:{}/x", stage.nginx.port + 1),
        format!("http://user@127.0.0.1:{}/x", stage.nginx.port),
    ] {
        let landed = sign_in_to(&browser, &callback).await;
        assert_eq!(landed, stage.server.base, "{callback}");
    }
}

#[tokio::test]
async fn forward_auth_refuses_descriptions_it_cannot_trust() {
    let port = free_port();
    let base = crate::support::base_config(port, "");
    let dir = ConfigDir::new(&format!(
        "{base}{}",
        config(port, &[], "  trustedProxies: [\"203.0.113.0/24\"]\n")
    ));
    let server = Server::start(&dir.config_path(), port);
    // From a peer that is not a trusted proxy, a forged original request is refused.
    let response = client()
        .get(server.url("/api/auth/forward-auth"))
        .header("X-Original-URI", "/public/a.css")
        .header("X-Original-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let trusting = stage();
    let url = trusting.server.url("/api/auth/forward-auth");
    let cases: [(&[(&str, &str)], u16); 7] = [
        (&[("X-Original-URI", "/public/a.css")], 200),
        // nginx style without a session: 401 (nginx turns it into the sign-in redirect).
        (&[("X-Original-URI", "/private")], 401),
        (&[("X-Original-URI", "/admin/x")], 403),
        (&[], 403),
        (&[("X-Original-URI", "http://evil/")], 403),
        (&[("X-Forwarded-Uri", "/public/a.css")], 403),
        (
            &[
                ("X-Forwarded-Uri", "/private"),
                ("X-Forwarded-Host", "a.example"),
            ],
            302,
        ),
    ];
    for (headers, status) in cases {
        let mut request = client().get(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            status,
            "{headers:?}"
        );
    }
}

#[test]
fn check_reports_bad_rules_proxies_and_hosts() {
    let dir = ConfigDir::new(&crate::support::base_config(
        free_port(),
        "redirect:
  allowedHosts: [\"https://app.example.com\"]
forwardAuth:
  trustedProxies: [\"10.0.0.0/33\"]
  headers:
    user: \"X Bad\"
  rules:
    - paths: [\"public\"]
      access: script
    - hosts: [\"app.example.com:8080\"]
      access: session
      authorize: \"true\"
",
    ));
    let (status, report) = crate::support::check_config(&dir.config_path());
    assert_eq!(status, Some(1), "{report}");
    for expected in [
        "redirect.allowedHosts[0]: expected a host",
        "forwardAuth.trustedProxies[0]: expected an address or a CIDR range",
        "forwardAuth.headers.user: not a header name",
        "forwardAuth.rules[0].paths: expected a path starting with `/`",
        "forwardAuth.rules[0].access: `access: script` needs an `authorize` script",
        "forwardAuth.rules[1].hosts: expected a host such as `app.example.com` or `*.example.com` (no port)",
        "forwardAuth.rules[1].authorize: is only run with `access: script`",
    ] {
        assert!(report.contains(expected), "{expected}:\n{report}");
    }
}

#[tokio::test]
async fn a_non_ascii_path_through_nginx_is_not_described_by_the_client() {
    use std::io::{Read, Write};
    let stage = stage();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", stage.nginx.port)).unwrap();
    let mut request = b"GET /admin/\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec();
    request.extend_from_slice(b"X-Forwarded-Uri: /public/x\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert_ne!(status, "200", "{answer}");
}
