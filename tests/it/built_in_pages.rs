//! The built-in pages over HTTP: the pinned HTML of each page, the theme and the wording a
//! configuration sets, a site's own templates (live, and refused when broken), the app's
//! own pages through `pages:`, the error statuses, hostile query values, and `/client.js`.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;

use authgate::actions::pages::domain_tag;

use crate::support::{
    ConfigDir, SECRET, Server, base_config, check_config, client, eventually, free_port,
};

/// A server on `port` with `extra` configuration.
fn start(extra: &str) -> (ConfigDir, Server) {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(port, extra));
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

async fn get(server: &Server, path: &str) -> (StatusCode, String) {
    let response = client().get(server.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

/// The providers of the pinned pages: an OAuth preset with a logo, email, and credentials.
const SNAPSHOT_PROVIDERS: &str = "database:
  url: \"sqlite::memory:\"
session:
  strategy: jwt
providers:
  - use: github
    clientId: snapshot-client
    clientSecret: snapshot-secret
  - id: email
    type: email
    transport: dev
    from: \"Authgate <auth@example.com>\"
  - id: password
    type: credentials
    name: Password
    credentials:
      username: { label: Username }
      password: { label: Password, type: password }
    authorize: \"()\"
";

/// The page with what changes between runs (the port, the CSRF token) replaced.
fn normalized(html: &str, server: &Server) -> String {
    const TOKEN: &str = "name=\"csrfToken\" value=\"";
    let escaped_base = server.base.replace('/', "&#x2f;");
    let html = html
        .replace(&server.base, "{base}")
        .replace(&escaped_base, "{base}");
    let mut out = String::new();
    let mut rest = html.as_str();
    while let Some(index) = rest.find(TOKEN) {
        let value = &rest[index + TOKEN.len()..];
        out.push_str(&rest[..index + TOKEN.len()]);
        out.push_str("{csrf}");
        rest = &value[value.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn each_page_matches_its_pinned_html() {
    let (_dir, server) = start(SNAPSHOT_PROVIDERS);
    let verify_request = format!(
        "/api/auth/verify-request?provider=email&type=email&domain=example.com&domainTag={}",
        domain_tag("example.com", SECRET)
    );
    let pages = [
        (
            "signin",
            "/api/auth/signin?callbackUrl=%2Fdashboard&error=CredentialsSignin",
        ),
        ("signout", "/api/auth/signout?callbackUrl=%2Fdashboard"),
        ("verify-request", verify_request.as_str()),
        ("error", "/api/auth/error?error=Verification"),
    ];
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/pages");
    let update = std::env::var_os("AUTHGATE_UPDATE_SNAPSHOTS").is_some();
    for (name, path) in pages {
        let (_, html) = get(&server, path).await;
        let html = normalized(&html, &server);
        let pinned = directory.join(format!("{name}.html"));
        if update {
            std::fs::write(&pinned, &html).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&pinned).unwrap_or_default();
        assert!(
            html == expected,
            "{name}: the page differs from {}; if the change is intended, run the tests with AUTHGATE_UPDATE_SNAPSHOTS=1 and review the diff.\n{html}",
            pinned.display()
        );
    }
}

#[tokio::test]
async fn the_theme_and_the_wording_come_from_the_configuration() {
    let (_dir, server) = start(
        "theme:
  colorScheme: dark
  brandColor: \"#0f766e\"
  buttonText: \"#ffffff\"
  logo: https://cdn.example.com/logo.png
pages:
  messages:
    lang: de
    signout.title: Abmelden
    signout.question: Wirklich abmelden?
    signout.submit: Abmelden
",
    );
    let (status, html) = get(&server, "/api/auth/signout").await;
    assert_eq!(status, 200);
    for expected in [
        "<html lang=\"de\" class=\"dark\">",
        "<meta name=\"color-scheme\" content=\"dark\">",
        "--brand:#0f766e;--brand-text:#ffffff",
        "<title>Abmelden</title>",
        "<p>Wirklich abmelden?</p>",
        "src=\"https:&#x2f;&#x2f;cdn.example.com&#x2f;logo.png\"",
    ] {
        assert!(html.contains(expected), "{expected}:\n{html}");
    }
    // Dark only: no rule follows the browser's preference.
    assert!(!html.contains("prefers-color-scheme"), "{html}");
    let (_, auto) = get(&start("").1, "/api/auth/signin").await;
    assert!(
        auto.contains("@media (prefers-color-scheme:dark){html.auto{"),
        "{auto}"
    );
}

#[tokio::test]
async fn check_reports_unknown_message_keys_bad_colours_and_unreadable_buttons() {
    let dir = ConfigDir::new(&base_config(
        free_port(),
        "theme:
  brandColor: \"#ffff00\"
  logo: javascript:alert(1)
pages:
  messages:
    signin.titel: Anmelden
",
    ));
    let (status, report) = check_config(&dir.config_path());
    assert_eq!(status, Some(1), "{report}");
    for expected in [
        "pages.messages.signin.titel: unknown message key `signin.titel`; did you mean `signin.title`?",
        "theme.logo: expected an https URL",
        "theme.brandColor: `#ffffff` on `#ffff00` has a contrast of 1.1:1",
    ] {
        assert!(report.contains(expected), "{expected}:\n{report}");
    }
}

const SITE_SIGN_IN: &str = "{% extends \"layout.html\" %}
{% block title %}Welcome{% endblock %}
{% block content %}<h1>{{ t[\"signin.title\"] }} at Acme</h1><p>code: {{ errorCode }}</p>
{% for p in providers.credentials %}<form method=\"post\" action=\"{{ p.action }}\"><input type=\"hidden\" name=\"csrfToken\" value=\"{{ csrfToken }}\"></form>{% endfor %}
{% endblock %}
";

#[tokio::test]
async fn site_templates_are_served_live_and_a_broken_one_keeps_the_last_good_pages() {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(
        port,
        "pages:\n  templates: ./pages\n  messages:\n    signin.title: Log in\n",
    ));
    dir.write("pages/signin.html", SITE_SIGN_IN);
    let server = Server::start(&dir.config_path(), port);
    let (status, html) = get(&server, "/api/auth/signin").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Log in at Acme</h1>"), "{html}");
    assert!(html.contains("<title>Welcome</title>"), "{html}");
    // A template sees the known code an `?error=` names, never the query's text.
    let (_, html) = get(&server, "/api/auth/signin?error=Call%20us%20now").await;
    assert!(html.contains("<p>code: default</p>"), "{html}");
    let (_, html) = get(&server, "/api/auth/signin?error=credentialssignin").await;
    assert!(html.contains("<p>code: CredentialsSignin</p>"), "{html}");
    // The built-in pages it does not replace are still served.
    let (_, sign_out) = get(&server, "/api/auth/signout").await;
    assert!(
        sign_out.contains("Are you sure you want to sign out?"),
        "{sign_out}"
    );

    // An edit is served without a restart.
    dir.replace(
        "pages/signin.html",
        &SITE_SIGN_IN.replace("at Acme", "at Acme Two"),
    );
    let served = eventually(Duration::from_secs(3), || async {
        get(&server, "/api/auth/signin")
            .await
            .1
            .contains("Log in at Acme Two")
            .then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "the edited template was not served; log:\n{}",
        server.log()
    );

    // A page that had no template of its own gets one by creating the file.
    dir.replace(
        "pages/signout.html",
        "{% extends \"layout.html\" %}{% block content %}<h1>Leaving Acme?</h1>{% endblock %}",
    );
    let created = eventually(Duration::from_secs(3), || async {
        get(&server, "/api/auth/signout")
            .await
            .1
            .contains("<h1>Leaving Acme?</h1>")
            .then_some(())
    })
    .await;
    assert!(
        created.is_some(),
        "the new template was not served; log:\n{}",
        server.log()
    );

    // A broken template is refused, with its file and line; the last good page stays.
    dir.replace("pages/signin.html", "<h1>\n{% if error %}never closed\n");
    // The reload's summary is logged before its diagnostics, so wait for both.
    let refused = eventually(Duration::from_secs(3), || async {
        let log = server.log();
        (log.contains("configuration reload failed") && log.contains("signin.html:2")).then_some(())
    })
    .await;
    assert!(refused.is_some(), "{}", server.log());
    let (status, html) = get(&server, "/api/auth/signin").await;
    assert_eq!(status, 200);
    assert!(html.contains("Log in at Acme Two"), "{html}");

    // `authgate check` says the same.
    let (status, report) = check_config(&dir.config_path());
    assert_eq!(status, Some(1), "{report}");
    assert!(
        report.contains("the page template `signin.html` cannot be used"),
        "{report}"
    );
}

#[tokio::test]
async fn check_refuses_templates_that_lead_out_of_their_directory_and_odd_colours() {
    let dir = ConfigDir::new(&base_config(
        free_port(),
        "theme:\n  brandColor: \"#a\u{e9}\"\npages:\n  templates: ./pages\n",
    ));
    dir.write("outside.html", "{{ csrfToken }}");
    dir.write("pages/inside.html", "<p>inside</p>");
    std::os::unix::fs::symlink(
        dir.path().join("outside.html"),
        dir.path().join("pages/error.html"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("pages/leak.html")).unwrap();
    // A link that stays inside (a ConfigMap's layout) is fine.
    std::os::unix::fs::symlink("inside.html", dir.path().join("pages/signout.html")).unwrap();
    let (status, report) = check_config(&dir.config_path());
    assert_eq!(status, Some(1), "{report}");
    assert!(
        report.contains("templates must be regular files inside"),
        "{report}"
    );
    assert!(report.contains("pages/error.html"), "{report}");
    assert!(report.contains("pages/leak.html"), "{report}");
    assert!(!report.contains("pages/signout.html"), "{report}");
    assert!(
        report.contains("theme.brandColor: expected a colour such as `#346df1` or `white`"),
        "{report}"
    );
}

#[tokio::test]
async fn the_apps_own_pages_receive_callback_url_and_error() {
    let (_dir, server) = start(
        "pages:
  signIn: /login
  signOut: https://app.example.com/bye
  error: /oops?from=auth
  verifyRequest: /check-email
",
    );
    let cases = [
        (
            "/api/auth/signin?callbackUrl=%2Fdashboard&error=OAuthSignin",
            format!(
                "{}/login?callbackUrl=%2Fdashboard&error=OAuthSignin",
                server.base
            ),
        ),
        (
            "/api/auth/signout",
            "https://app.example.com/bye".to_string(),
        ),
        (
            "/api/auth/error?error=AccessDenied",
            format!("{}/oops?from=auth&error=AccessDenied", server.base),
        ),
        (
            "/api/auth/verify-request?provider=email",
            format!("{}/check-email", server.base),
        ),
    ];
    for (path, expected) in cases {
        let response = client().get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(location(&response), expected, "{path}");
    }
}

#[tokio::test]
async fn error_pages_answer_each_codes_status_and_message() {
    let (_dir, server) = start("");
    let cases = [
        (
            "Configuration",
            500,
            "problem with the server configuration",
        ),
        ("AccessDenied", 403, "do not have permission"),
        ("Verification", 403, "no longer valid"),
        ("accessdenied", 403, "do not have permission"),
        ("RateLimited", 429, "Too many attempts"),
        ("Nonsense", 400, "Something went wrong"),
    ];
    // Codes the user can do something about are shown on the sign-in page, as Auth.js does.
    for code in ["OAuthAccountNotLinked", "OAuthCallback", "SessionRequired"] {
        let response = client()
            .get(server.url(&format!("/api/auth/error?error={code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{code}");
        assert_eq!(
            location(&response),
            format!("{}/api/auth/signin?error={code}", server.base)
        );
    }
    for (code, status, text) in cases {
        let (answered, html) = get(&server, &format!("/api/auth/error?error={code}")).await;
        assert_eq!(answered.as_u16(), status, "{code}");
        assert!(html.contains(text), "{code}: {html}");
        assert!(html.contains("role=\"alert\""), "{code}");
    }
}

#[tokio::test]
async fn query_values_never_become_markup_words_or_links() {
    let (_dir, server) = start(
        "providers:\n  - id: password\n    type: credentials\n    credentials:\n      username: {}\n    authorize: \"()\"\n",
    );
    let script = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let cases = [
        // An unknown error code shows the default text, never the code.
        (
            format!("/api/auth/signin?error={script}"),
            "We could not sign you in.",
        ),
        // A callbackUrl is an escaped attribute value.
        (
            format!("/api/auth/signin?callbackUrl=%22%3E{script}"),
            "value=\"&quot;&gt;&lt;script&gt;",
        ),
        // A "domain" that is a sentence is not repeated.
        (
            "/api/auth/verify-request?domain=evil.example%20now%20call%20us".to_string(),
            "We sent a sign-in link to your email address.",
        ),
        // A callbackUrl too long to be real is not carried.
        (
            format!("/api/auth/signin?callbackUrl=%2F{}", "a".repeat(5000)),
            "Sign in with password",
        ),
        // Prefilled email: escaped.
        (
            format!("/api/auth/signin?email=a%40b.c%22{script}"),
            "Sign in with password",
        ),
    ];
    for (path, expected) in cases {
        let (status, html) = get(&server, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script>"), "{path}: {html}");
        assert!(!html.contains("aaaaaaaaaa"), "{path}: {html}");
        assert!(html.contains(expected), "{path}: {expected}\n{html}");
    }
    // "Stay signed in" on the sign-out page follows the redirect rule.
    for callback in [
        "javascript:alert(1)",
        "https://evil.example/",
        "//evil.example",
    ] {
        let path = format!(
            "/api/auth/signout?callbackUrl={}",
            url::form_urlencoded::byte_serialize(callback.as_bytes()).collect::<String>()
        );
        let (_, html) = get(&server, &path).await;
        let home = format!("<a href=\"{}\">", server.base.replace('/', "&#x2f;"));
        assert!(html.contains(&home), "{callback}: {html}");
    }
    let (_, html) = get(&server, "/api/auth/signout?callbackUrl=%2Fdashboard").await;
    assert!(html.contains("&#x2f;dashboard\">Stay signed in"), "{html}");
}

#[tokio::test]
async fn the_browser_client_is_served_with_its_declarations_and_revalidated() {
    let (_dir, server) = start("basePath: /auth\n");
    let response = client()
        .get(server.url("/auth/client.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let body = response.text().await.unwrap();
    assert!(body.contains("export function getSession"), "{body}");
    let again = client()
        .get(server.url("/auth/client.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let declarations = client()
        .get(server.url("/auth/client.d.ts"))
        .send()
        .await
        .unwrap();
    assert_eq!(declarations.status(), 200);
    assert!(
        declarations
            .text()
            .await
            .unwrap()
            .contains("export interface Session")
    );
    // Only under the base path.
    let (status, _) = get(&server, "/api/auth/client.js").await;
    assert_eq!(status, 404);
}
