//! Email (passwordless) sign-in end to end: authgate sends through a real SMTP server
//! (aiosmtpd on loopback), the test reads the message and follows its link like a user.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use authgate::store::Adapter;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::smtp::{Mail, SmtpOptions, SmtpServer};
use crate::support::{Browser, ConfigDir, Server, base_config, free_port, unbound_port};

const WAIT: Duration = Duration::from_secs(10);

/// A server on SQLite with one email provider (`provider` is its YAML after `type`), and
/// the rate limits off unless `extra` sets them.
struct EmailServer {
    server: Server,
    db: TestDatabase,
    _dir: ConfigDir,
}

async fn email_server(provider: &str, extra: &str) -> EmailServer {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let limits = if extra.contains("rateLimits:") {
        ""
    } else {
        "rateLimits:\n  email: {perAddress: \"off\", perIp: \"off\"}\n"
    };
    let config = base_config(
        port,
        &format!(
            "database:\n  url: \"{}\"\n{limits}{extra}providers:\n  - id: email\n    type: email\n    from: \"Authgate <auth@example.com>\"\n{provider}",
            db.url
        ),
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    EmailServer {
        server,
        db,
        _dir: dir,
    }
}

fn smtp_provider(smtp: &SmtpServer) -> String {
    format!("    server: \"smtp://127.0.0.1:{}\"\n", smtp.port)
}

/// `POST /signin/email` from `browser` with `email` and any `extra` fields.
async fn request_link(browser: &Browser, email: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let csrf = browser.csrf().await;
    let mut form = vec![("csrfToken", csrf.as_str()), ("email", email)];
    form.extend_from_slice(extra);
    browser
        .http
        .post(browser.url("/signin/email"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// `url` is the verify-request page for `example.com`, with its tag.
fn assert_verify_request(browser: &Browser, url: &str) {
    let expected =
        browser.url("/verify-request?provider=email&type=email&domain=example.com&domainTag=");
    assert!(url.starts_with(&expected), "{url}");
    let tag = &url[expected.len()..];
    assert!(
        tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{url}"
    );
}

/// Follows a sign-in link in `browser`; the redirect it answers.
async fn follow(browser: &Browser, link: &str) -> String {
    let response = browser.http.get(link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{link}");
    location(&response)
}

async fn verification_tokens(db: &TestDatabase) -> i64 {
    use sqlx::Row;
    let mut connection = db.connection().await;
    sqlx::query("SELECT COUNT(*) FROM verification_tokens")
        .fetch_one(&mut connection)
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_mailed_link_signs_in_once_and_verifies_the_email() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    let browser = Browser::new(&app.server);

    let response = request_link(
        &browser,
        "  Ada@Example.COM ",
        &[("callbackUrl", "/dashboard")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_verify_request(&browser, &location(&response));
    let mail = smtp.wait_for_messages(1, WAIT).await.remove(0);
    assert_eq!(mail.rcpt_tos, ["ada@example.com"]);
    assert_eq!(mail.mail_from, "auth@example.com");
    assert_eq!(mail.subject.as_deref(), Some("Sign in to 127.0.0.1"));
    assert!(
        mail.content_type
            .as_deref()
            .unwrap_or_default()
            .starts_with("multipart/alternative")
    );
    let link = mail.link();
    assert!(
        link.starts_with(&browser.url("/callback/email?callbackUrl=")),
        "{link}"
    );
    // The HTML part carries the same link, escaped for an attribute.
    let html = mail.html.clone().unwrap_or_default();
    let unescaped = html.replace("&#x2f;", "/").replace("&amp;", "&");
    assert!(unescaped.contains(&format!("href=\"{link}\"")), "{html}");
    assert_eq!(verification_tokens(&app.db).await, 1);

    // The verify-request page answers, naming the domain authgate put in its URL, and
    // only that one.
    let page = browser.http.get(location(&response)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let text = page.text().await.unwrap();
    assert!(text.contains("Check your email"), "{text}");
    assert!(text.contains("your address at example.com."), "{text}");
    let forged = location(&response).replace("domain=example.com", "domain=call-us.example.net");
    let text = browser
        .http
        .get(forged)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("call-us"), "{text}");
    assert!(
        text.contains("We sent a sign-in link to your email address."),
        "{text}"
    );

    assert_eq!(follow(&browser, &link).await, app.server.url("/dashboard"));
    let session = browser.session().await;
    assert_eq!(session["user"]["email"], "ada@example.com", "{session}");
    let store = app.db.store().await;
    let user = store
        .get_user_by_email("ada@example.com")
        .await
        .unwrap()
        .expect("the user");
    assert!(user.email_verified.is_some(), "{user:?}");
    assert_eq!(verification_tokens(&app.db).await, 0);

    // The link is spent.
    let again = Browser::new(&app.server);
    assert_eq!(
        follow(&again, &link).await,
        again.url("/error?error=Verification")
    );
    assert_eq!(again.session().await, Value::Null);
}

#[tokio::test]
async fn an_existing_users_email_sign_in_verifies_the_address_and_raises_update_user() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let events = "events:\n  updateUser: |\n    log_info(`updateUser ${user.email} verified=${user.emailVerified != ()}`);\n";
    let app = email_server(&smtp_provider(&smtp), events).await;
    // Created long ago by a sign-in whose provider vouched for the address, in another
    // spelling. (One whose address nobody vouched for is never joined: `oauth_flow`.)
    let store = app.db.store().await;
    let grace = store
        .create_user(authgate::store::NewUser {
            email: Some("Grace@Example.com".into()),
            email_verified: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();

    let browser = Browser::new(&app.server);
    request_link(&browser, "grace@example.COM", &[]).await;
    let mail = smtp.wait_for_messages(1, WAIT).await.remove(0);
    assert_eq!(mail.rcpt_tos, ["grace@example.com"]);
    follow(&browser, &mail.link()).await;
    assert_eq!(
        browser.session().await["user"]["email"],
        "grace@example.com"
    );
    let user = store.get_user(&grace.id).await.unwrap().expect("the user");
    assert!(user.email_verified.is_some_and(|at| at > 1), "{user:?}");
    let wanted = "updateUser grace@example.com verified=true";
    let log = app.server.log_when(WAIT, |log| log.contains(wanted)).await;
    assert!(log.contains(wanted), "{log}");
}

#[tokio::test]
async fn the_sign_in_page_form_asks_for_an_address_and_a_post_without_csrf_sends_nothing() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    let browser = Browser::new(&app.server);
    let page = browser
        .http
        .get(browser.url("/signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Attribute values are HTML-escaped, `/` included.
    let action = browser.url("/signin/email").replace('/', "&#x2f;");
    assert!(page.contains(&format!("action=\"{action}\"")), "{page}");
    assert!(page.contains("type=\"email\" name=\"email\""), "{page}");
    // A cross-site form without the token, or with another browser's token.
    let foreign = Browser::new(&app.server).csrf().await;
    browser.csrf().await;
    for form in [
        vec![("email", "ada@example.com")],
        vec![
            ("email", "ada@example.com"),
            ("csrfToken", foreign.as_str()),
        ],
    ] {
        let response = browser
            .http
            .post(browser.url("/signin/email"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            location(&response),
            browser.url("/error?error=MissingCSRF"),
            "{form:?}"
        );
    }
    assert_eq!(verification_tokens(&app.db).await, 0);
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn json_clients_get_the_verify_request_url() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    let browser = Browser::new(&app.server);
    let response = request_link(&browser, "ada@example.com", &[("json", "true")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_verify_request(&browser, body["url"].as_str().unwrap_or_default());
    smtp.wait_for_messages(1, WAIT).await;
}

#[tokio::test]
async fn a_link_for_another_address_or_a_wrong_token_is_refused_and_spends_nothing() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    let browser = Browser::new(&app.server);
    request_link(&browser, "ada@example.com", &[]).await;
    let link = smtp.wait_for_messages(1, WAIT).await.remove(0).link();
    let error = browser.url("/error?error=Verification");
    let attacks = [
        link.replace("email=ada%40example.com", "email=eve%40example.com"),
        link.replace("token=", "token=x"),
        link.replace("email=ada%40example.com", "email="),
        link.split("&token=").next().unwrap().to_string(),
    ];
    for attack in &attacks {
        assert_eq!(follow(&browser, attack).await, error, "{attack}");
    }
    assert_eq!(browser.session().await, Value::Null);
    // None of that spent the real link.
    follow(&browser, &link).await;
    assert_eq!(browser.session().await["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_email_signin_and_leaves_nothing_stored() {
    let closed = unbound_port();
    let app = email_server(&format!("    server: \"smtp://127.0.0.1:{closed}\"\n"), "").await;
    let browser = Browser::new(&app.server);
    let response = request_link(&browser, "ada@example.com", &[]).await;
    assert_eq!(
        location(&response),
        browser.url("/signin?error=EmailSignin")
    );
    assert_eq!(verification_tokens(&app.db).await, 0);

    // A server that refuses the recipient is the same failure.
    let refusing = SmtpServer::start(SmtpOptions {
        reject_rcpt: true,
        ..SmtpOptions::default()
    });
    let app = email_server(&smtp_provider(&refusing), "").await;
    let browser = Browser::new(&app.server);
    let response = request_link(&browser, "ada@example.com", &[]).await;
    assert_eq!(
        location(&response),
        browser.url("/signin?error=EmailSignin")
    );
    assert_eq!(verification_tokens(&app.db).await, 0);
}

#[tokio::test]
async fn starttls_and_auth_are_used_against_a_server_that_requires_them() {
    let smtp = SmtpServer::start(SmtpOptions {
        starttls: true,
        auth: Some(("mailer".into(), "s3cret:pass".into())),
        ..SmtpOptions::default()
    });
    let ca = SmtpServer::cert_path();
    let provider = |password: &str, ca_line: &str| {
        format!(
            "    server: \"smtp://mailer:{password}@127.0.0.1:{}?tls=required\"\n{ca_line}",
            smtp.port
        )
    };
    let trusted = format!("    serverCaFile: \"{}\"\n", ca.display());

    let app = email_server(&provider("s3cret%3Apass", &trusted), "").await;
    let browser = Browser::new(&app.server);
    let response = request_link(&browser, "ada@example.com", &[]).await;
    assert_verify_request(&browser, &location(&response));
    let mail: Mail = smtp.wait_for_messages(1, WAIT).await.remove(0);
    assert!(mail.tls, "the message went over STARTTLS");
    assert_eq!(mail.authenticated_as.as_deref(), Some("mailer"));
    // The log never shows the password.
    assert!(!app.server.log().contains("s3cret"), "{}", app.server.log());

    // A wrong password, or a certificate nobody trusts, sends nothing.
    for provider in [provider("wrong", &trusted), provider("s3cret%3Apass", "")] {
        let app = email_server(&provider, "").await;
        let browser = Browser::new(&app.server);
        let response = request_link(&browser, "ada@example.com", &[]).await;
        assert_eq!(
            location(&response),
            browser.url("/signin?error=EmailSignin"),
            "{provider}"
        );
        assert_eq!(verification_tokens(&app.db).await, 0);
        assert!(!app.server.log().contains("s3cret"), "{}", app.server.log());
    }
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn addresses_that_name_two_mailboxes_are_refused_and_variants_are_one_user() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    let browser = Browser::new(&app.server);
    for attack in [
        "\"a@b\"@evil.com",
        "a@b@evil.com",
        "a@b.com, c@evil.com",
        "a＠evil.com",
        "a@b.com\r\nBcc: c@evil.com",
        "victim@example.com evil@evil.com",
        "",
    ] {
        let response = request_link(&browser, attack, &[]).await;
        assert_eq!(
            location(&response),
            browser.url("/signin?error=EmailSignin"),
            "{attack:?}"
        );
    }
    assert!(smtp.messages().is_empty(), "{:?}", smtp.messages());

    for (index, variant) in ["ADA@example.com", "  ada@EXAMPLE.com\t"]
        .iter()
        .enumerate()
    {
        let browser = Browser::new(&app.server);
        request_link(&browser, variant, &[]).await;
        let mail = smtp.wait_for_messages(index + 1, WAIT).await.remove(index);
        assert_eq!(mail.rcpt_tos, ["ada@example.com"]);
        follow(&browser, &mail.link()).await;
        let session = browser.session().await;
        assert_eq!(session["user"]["email"], "ada@example.com", "{session}");
    }
    let store = app.db.store().await;
    let user = store
        .get_user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    let account = store
        .get_user_by_account("email", "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.id, user.id, "both links signed in the one user");
}

#[tokio::test]
async fn a_link_opened_in_another_browser_signs_that_browser_in() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    let laptop = Browser::new(&app.server);
    request_link(&laptop, "ada@example.com", &[]).await;
    let link = smtp.wait_for_messages(1, WAIT).await.remove(0).link();
    // The phone never loaded a page of authgate: it gets its own CSRF cookie, which the
    // session is bound to.
    let phone = Browser::new(&app.server);
    let response = phone.http.get(&link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookies = crate::support::set_cookies(&response);
    assert!(
        cookies
            .iter()
            .any(|cookie| cookie.starts_with("authjs.csrf-token=")),
        "{cookies:?}"
    );
    assert_eq!(phone.session().await["user"]["email"], "ada@example.com");
    assert_eq!(laptop.session().await, Value::Null);
}

/// A loopback HTTP endpoint that answers `status` to one request and hands it over.
async fn one_request_endpoint(status: u16) -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = stream.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_string)
                    })
                    .and_then(|length| length.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length || read == 0 {
                    break;
                }
            }
        }
        let answer =
            format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        stream.write_all(answer.as_bytes()).await.unwrap();
        let _ = sender.send(String::from_utf8_lossy(&request).to_string());
    });
    (port, receiver)
}

#[tokio::test]
async fn a_send_verification_request_script_delivers_by_http_instead_of_email() {
    let (port, received) = one_request_endpoint(202).await;
    let script = format!(
        "    sendVerificationRequest: |\n      #{{ http: #{{ url: \"http://127.0.0.1:{port}/messages\", headers: #{{ \"x-api-key\": \"key-1\" }}, json: #{{ to: identifier, link: url, subject: message.subject }} }} }}\n"
    );
    let app = email_server(&script, "").await;
    let browser = Browser::new(&app.server);
    let response = request_link(&browser, "Ada@Example.com", &[]).await;
    assert_verify_request(&browser, &location(&response));
    let request = tokio::time::timeout(WAIT, received).await.unwrap().unwrap();
    assert!(request.starts_with("POST /messages HTTP/1.1"), "{request}");
    assert!(
        request.to_ascii_lowercase().contains("x-api-key: key-1"),
        "{request}"
    );
    let body: Value = serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["to"], "ada@example.com");
    assert_eq!(body["subject"], "Sign in to 127.0.0.1");
    let link = body["link"].as_str().unwrap();
    follow(&browser, link).await;
    assert_eq!(browser.session().await["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn a_delivery_that_fails_or_is_refused_by_the_script_is_email_signin() {
    let (port, _received) = one_request_endpoint(500).await;
    let smtp = SmtpServer::start(SmtpOptions::default());
    let cases = [
        format!(
            "    sendVerificationRequest: |\n      #{{ http: #{{ url: \"http://127.0.0.1:{port}/messages\", body: url }} }}\n"
        ),
        format!(
            "{}    sendVerificationRequest: \"false\"\n",
            smtp_provider(&smtp)
        ),
        format!(
            "{}    sendVerificationRequest: |\n      throw \"no\";\n",
            smtp_provider(&smtp)
        ),
    ];
    for provider in cases {
        let app = email_server(&provider, "").await;
        let browser = Browser::new(&app.server);
        let response = request_link(&browser, "ada@example.com", &[]).await;
        assert_eq!(
            location(&response),
            browser.url("/signin?error=EmailSignin"),
            "{provider}"
        );
        assert_eq!(verification_tokens(&app.db).await, 0, "{provider}");
    }
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn a_script_may_rewrite_the_message_and_templates_are_configurable() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let provider = format!(
        "{}    message:\n      text: \"Your link: {{{{ url }}}}\"\n    sendVerificationRequest: |\n      #{{ subject: \"Welcome to \" + provider.name }}\n",
        smtp_provider(&smtp)
    );
    let app = email_server(&provider, "").await;
    let browser = Browser::new(&app.server);
    request_link(&browser, "ada@example.com", &[]).await;
    let mail = smtp.wait_for_messages(1, WAIT).await.remove(0);
    assert_eq!(mail.subject.as_deref(), Some("Welcome to email"));
    assert!(
        mail.text
            .as_deref()
            .unwrap_or_default()
            .starts_with("Your link: http://"),
        "{mail:?}"
    );
    assert!(mail.html.is_some());
}

#[tokio::test]
async fn the_email_example_signs_in_by_the_logged_link() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/email/authgate.yaml");
    // A copy, so that its SQLite file lands in a temporary directory.
    let dir = ConfigDir::new(&std::fs::read_to_string(example).unwrap());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server =
        crate::support::Server::start_with_env(&dir.config_path(), port, &[("AUTHGATE_URL", &url)]);
    assert!(
        server.log().contains("dev` transport"),
        "the start-up log warns: {}",
        server.log()
    );
    let browser = Browser::new(&server);
    let response = request_link(&browser, "grace@example.com", &[]).await;
    assert_verify_request(&browser, &location(&response));
    let log = server.log_when(WAIT, |log| log.contains("link=")).await;
    let link = log
        .split("link=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|link| link.trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("no link in the log: {log}"));
    follow(&browser, &link).await;
    assert_eq!(
        browser.session().await["user"]["email"],
        "grace@example.com"
    );
}

#[tokio::test]
async fn a_link_sent_to_a_signed_in_victim_never_joins_the_senders_address_to_the_victim() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "").await;
    // The victim is signed in by their own link.
    let victim = Browser::new(&app.server);
    request_link(&victim, "victim@example.com", &[]).await;
    let victim_link = smtp.wait_for_messages(1, WAIT).await.remove(0).link();
    follow(&victim, &victim_link).await;
    assert_eq!(
        victim.session().await["user"]["email"],
        "victim@example.com"
    );
    // The attacker asks for a link to their own address and makes the victim's browser
    // open it (a top-level navigation carries the victim's cookies).
    let attacker = Browser::new(&app.server);
    request_link(&attacker, "eve@example.com", &[]).await;
    let attacker_link = smtp.wait_for_messages(2, WAIT).await.remove(1).link();
    follow(&victim, &attacker_link).await;
    let store = app.db.store().await;
    let victim_user = store
        .get_user_by_email("victim@example.com")
        .await
        .unwrap()
        .unwrap();
    let eve = store
        .get_user_by_account("email", "eve@example.com")
        .await
        .unwrap()
        .expect("eve's address is an account");
    assert_ne!(
        eve.id, victim_user.id,
        "eve's address was joined to the victim"
    );
    assert_eq!(eve.email.as_deref(), Some("eve@example.com"));
}

#[tokio::test]
async fn the_link_is_on_the_configured_url_whatever_host_the_request_named() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp_provider(&smtp), "trustHost: true\n").await;
    let browser = Browser::new(&app.server);
    let csrf = browser.csrf().await;
    let response = browser
        .http
        .post(browser.url("/signin/email"))
        .header("x-forwarded-host", "evil.example")
        .form(&[("csrfToken", csrf.as_str()), ("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let mail = smtp.wait_for_messages(1, WAIT).await.remove(0);
    assert!(
        mail.link().starts_with(&browser.url("/callback/email?")),
        "{}",
        mail.link()
    );
    assert!(!mail.raw.contains("evil.example"), "{}", mail.raw);
}
