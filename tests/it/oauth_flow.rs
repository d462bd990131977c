//! OAuth 2.0 and OpenID Connect sign-in against a real OpenID Provider (oidc-provider):
//! the full oidc and plain oauth flows, the attacks on the round trip, account linking
//! with a store, and single-flight refresh-token rotation.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::Browser;
use crate::support::databases::{Backend, TestDatabase};
use crate::support::idp::{
    CLIENT_SECRET, Idp, authorize, callback_uri, sign_in, start_sign_in, start_sign_in_with, walk,
};
use crate::support::{ConfigDir, Server, base_config, free_port};

/// authgate on `port` with `providers` (YAML list items) and `extra` config.
fn config(port: u16, providers: &str, extra: &str) -> String {
    base_config(
        port,
        &format!(
            "providers:\n{providers}callbacks:\n  session: |\n    session.user.id = if user != () {{ user.id }} else {{ token.sub }};\n    if token != () && token.access_token != () {{ session.accessToken = token.access_token; }}\n    session\n{extra}"
        ),
    )
}

fn oidc_provider(id: &str, idp: &Idp, extra: &str) -> String {
    format!(
        "  - id: {id}\n    type: oidc\n    issuer: {}\n    clientId: {id}-client\n    clientSecret: {CLIENT_SECRET}\n{extra}",
        idp.issuer
    )
}

struct Setup {
    idp: Idp,
    server: Server,
    _dir: ConfigDir,
}

/// An IdP with clients `<id>-client` for each provider id, and authgate using them.
fn setup(ids: &[&str], provider_extra: &str, extra: &str, ttl: u64) -> Setup {
    let port = free_port();
    let clients: Vec<(String, String)> = ids
        .iter()
        .map(|id| (format!("{id}-client"), callback_uri(port, id)))
        .collect();
    let borrowed: Vec<(&str, String)> = clients
        .iter()
        .map(|(id, uri)| (id.as_str(), uri.clone()))
        .collect();
    let idp = Idp::start(&borrowed, ttl);
    let providers: String = ids
        .iter()
        .map(|id| oidc_provider(id, &idp, provider_extra))
        .collect();
    let dir = ConfigDir::new(&config(port, &providers, extra));
    let server = Server::start(&dir.config_path(), port);
    Setup {
        idp,
        server,
        _dir: dir,
    }
}

/// A query parameter of `url` (the test fails without it).
fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

fn error_of(location: &str) -> Option<String> {
    url::Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == "error")
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn oidc_sign_in_creates_a_session_with_a_stable_user_id() {
    let setup = setup(&["idp"], "", "", 3600);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let browser = Browser::new(&setup.server);
        let landed = sign_in(&browser, &setup.idp, "idp", "ada").await;
        assert_eq!(landed, format!("{}/home", setup.server.base));
        let session = browser.session().await;
        assert_eq!(session["user"]["email"], "ada@example.com");
        assert_eq!(session["user"]["name"], "User ada");
        assert_eq!(session["user"]["image"], "https://example.com/ada.png");
        ids.push(session["user"]["id"].as_str().unwrap().to_string());
        // The check cookies are gone after the round trip.
        let cookies = browser.cookie_header();
        assert!(!cookies.contains("authjs.state"), "{cookies}");
        assert!(!cookies.contains("authjs.pkce"), "{cookies}");
        assert!(!cookies.contains("authjs.nonce"), "{cookies}");
    }
    assert_eq!(ids[0], ids[1], "the same account gets the same user id");
    assert_eq!(ids[0].len(), 36);
}

#[tokio::test]
async fn plain_oauth_sign_in_reads_userinfo() {
    let port = free_port();
    let idp = Idp::start_for(port, "plain");
    let provider = format!(
        "  - id: plain\n    type: oauth\n    authorization: {issuer}/auth\n    token: {issuer}/token\n    userinfo: {issuer}/me\n    scope: openid email profile\n    clientId: plain-client\n    clientSecret: {CLIENT_SECRET}\n    profile: |\n      #{{ id: profile.sub, name: profile.name, email: profile.email, image: profile.picture }}\n",
        issuer = idp.issuer
    );
    let dir = ConfigDir::new(&config(port, &provider, ""));
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let landed = sign_in(&browser, &idp, "plain", "bob").await;
    assert_eq!(landed, format!("{}/home", server.base));
    let session = browser.session().await;
    assert_eq!(session["user"]["email"], "bob@example.com");
    assert_eq!(session["user"]["name"], "User bob");
}

/// Runs the flow up to the callback URL, lets `tamper` change the URL (and pick the
/// browser that delivers it), and returns the error code authgate answers with.
async fn attack(
    setup: &Setup,
    start_as: &str,
    tamper: impl FnOnce(url::Url) -> (url::Url, bool),
) -> Option<String> {
    let browser = Browser::new(&setup.server);
    let authorization = start_sign_in(&browser, start_as, "/home").await;
    let callback = authorize(&browser, &setup.idp, &authorization, "ada").await;
    let (url, same_browser) = tamper(url::Url::parse(&callback).unwrap());
    let client = if same_browser {
        browser.http.clone()
    } else {
        crate::support::client()
    };
    let response = client.get(url.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        !response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("authjs.session-token=e")),
        "no session is issued"
    );
    error_of(&location)
}

fn with_parameter(mut url: url::Url, name: &str, value: Option<&str>) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (key, value) in &pairs {
            query.append_pair(key, value);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    url
}

#[tokio::test]
async fn round_trip_attacks_are_refused() {
    let setup = setup(&["idp", "other"], "", "", 3600);
    type Tamper = Box<dyn FnOnce(url::Url) -> (url::Url, bool)>;
    let cases: Vec<(&str, &str, Tamper)> = vec![
        (
            "state mismatch",
            "idp",
            Box::new(|url| (with_parameter(url, "state", Some("forged")), true)),
        ),
        (
            "missing state",
            "idp",
            Box::new(|url| (with_parameter(url, "state", None), true)),
        ),
        (
            "no check cookies (another browser)",
            "idp",
            Box::new(|url| (url, false)),
        ),
        (
            "check cookies of another provider",
            "other",
            Box::new(|url| {
                let path = url.path().replace("/callback/other", "/callback/idp");
                let mut moved = url.clone();
                moved.set_path(&path);
                (moved, true)
            }),
        ),
        (
            "mix-up: iss of another issuer",
            "idp",
            Box::new(|url| {
                (
                    with_parameter(url, "iss", Some("https://evil.example")),
                    true,
                )
            }),
        ),
        (
            "iss removed although the issuer sends it",
            "idp",
            Box::new(|url| (with_parameter(url, "iss", None), true)),
        ),
        (
            "forged code",
            "idp",
            Box::new(|url| (with_parameter(url, "code", Some("forged-code")), true)),
        ),
    ];
    for (name, start_as, tamper) in cases {
        assert_eq!(
            attack(&setup, start_as, tamper).await.as_deref(),
            Some("OAuthCallback"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_replayed_authorization_code_is_refused() {
    let setup = setup(&["idp"], "", "", 3600);
    let browser = Browser::new(&setup.server);
    let authorization = start_sign_in(&browser, "idp", "/home").await;
    let callback = authorize(&browser, &setup.idp, &authorization, "ada").await;
    let cookies = browser.cookie_header();
    let first = browser.http.get(&callback).send().await.unwrap();
    assert_eq!(
        error_of(first.headers()["location"].to_str().unwrap()),
        None
    );
    // The attacker replays the callback with the victim's check cookies.
    let replay = crate::support::client()
        .get(&callback)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let location = replay.headers()["location"].to_str().unwrap();
    assert_eq!(error_of(location).as_deref(), Some("OAuthCallback"));
}

#[tokio::test]
async fn a_tampered_redirect_uri_is_refused_by_the_provider() {
    let setup = setup(&["idp"], "", "", 3600);
    let browser = Browser::new(&setup.server);
    let authorization = start_sign_in(&browser, "idp", "/home").await;
    let tampered = with_parameter(
        url::Url::parse(&authorization).unwrap(),
        "redirect_uri",
        Some("https://evil.example/callback"),
    );
    let response = browser.http.get(tampered.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn a_provider_error_maps_to_access_denied() {
    let setup = setup(&["idp"], "", "", 3600);
    let browser = Browser::new(&setup.server);
    let authorization = start_sign_in(&browser, "idp", "/home").await;
    let state = query_param(&authorization, "state");
    let response = browser
        .http
        .get(browser.url(&format!(
            "/callback/idp?error=access_denied&error_description=no&state={state}"
        )))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(error_of(location).as_deref(), Some("AccessDenied"));
    assert_eq!(browser.session().await, Value::Null);
}

/// A store whose database already holds a user with `email`; its id.
/// A store user with `email`, its address verified (at some time) or not.
async fn user_with_email(db: &TestDatabase, email: &str, verified: bool) -> String {
    use authgate::store::{Adapter, NewUser};
    let store = db.store().await;
    let user = store
        .create_user(NewUser {
            email: Some(email.into()),
            name: Some("Existing".into()),
            email_verified: verified.then_some(1_700_000_000),
            ..NewUser::default()
        })
        .await
        .unwrap();
    store.close().await;
    user.id
}

/// The (provider, account id) pairs linked to `user_id`, sorted.
async fn linked_accounts(db: &TestDatabase, user_id: &Value) -> Vec<(String, String)> {
    use authgate::store::Adapter;
    let store = db.store().await;
    let mut linked: Vec<(String, String)> = store
        .get_accounts_of_user(user_id.as_str().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.provider, a.provider_account_id))
        .collect();
    store.close().await;
    linked.sort();
    linked
}

fn database_extra(db: &TestDatabase) -> String {
    format!("database:\n  url: \"{}\"\n", db.url)
}

#[tokio::test]
async fn an_existing_email_is_not_linked_without_opt_in() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    user_with_email(&db, "ada@example.com", true).await;
    let setup = setup(&["idp"], "", &database_extra(&db), 3600);
    let browser = Browser::new(&setup.server);
    let landed = sign_in(&browser, &setup.idp, "idp", "ada").await;
    assert_eq!(error_of(&landed).as_deref(), Some("OAuthAccountNotLinked"));
    assert_eq!(browser.session().await, Value::Null);
}

#[tokio::test]
async fn an_existing_email_is_linked_when_the_provider_opts_in() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let existing = user_with_email(&db, "ada@example.com", true).await;
    let setup = setup(
        &["idp"],
        "    allowDangerousEmailAccountLinking: true\n",
        &database_extra(&db),
        3600,
    );
    let browser = Browser::new(&setup.server);
    sign_in(&browser, &setup.idp, "idp", "ada").await;
    assert_eq!(browser.session().await["user"]["id"], existing.as_str());
}

#[tokio::test]
async fn email_linking_needs_a_verified_email_on_both_sides() {
    // (existing user verified, IdP login, linked?)
    let cases = [
        (true, "ada", true),
        // nOAuth: the IdP lets anyone claim ada@example.com without verifying it.
        (true, "unverified-ada", false),
        // Pre-registration: someone created the user with an address they never proved.
        (false, "ada", false),
    ];
    for (existing_verified, login, linked) in cases {
        let db = TestDatabase::new(Backend::Sqlite).await;
        let existing = user_with_email(&db, "ada@example.com", existing_verified).await;
        let setup = setup(
            &["idp"],
            "    allowDangerousEmailAccountLinking: true\n",
            &database_extra(&db),
            3600,
        );
        let browser = Browser::new(&setup.server);
        let landed = sign_in(&browser, &setup.idp, "idp", login).await;
        let case = format!("existing verified: {existing_verified}, login {login}");
        if linked {
            assert_eq!(
                browser.session().await["user"]["id"],
                existing.as_str(),
                "{case}"
            );
        } else {
            assert_eq!(
                error_of(&landed).as_deref(),
                Some("OAuthAccountNotLinked"),
                "{case}"
            );
            assert_eq!(browser.session().await, Value::Null, "{case}");
        }
    }
}

#[tokio::test]
async fn users_created_from_a_verified_profile_record_when_it_was_verified() {
    use authgate::store::Adapter;
    let db = TestDatabase::new(Backend::Sqlite).await;
    let setup = setup(&["idp"], "", &database_extra(&db), 3600);
    for (login, verified) in [("ada", true), ("unverified-bob", false)] {
        let browser = Browser::new(&setup.server);
        sign_in(&browser, &setup.idp, "idp", login).await;
        let id = browser.session().await["user"]["id"].clone();
        let store = db.store().await;
        let user = store.get_user(id.as_str().unwrap()).await.unwrap().unwrap();
        store.close().await;
        assert_eq!(user.email_verified.is_some(), verified, "{login}");
    }
}

#[tokio::test]
async fn a_flow_planted_from_another_browser_fails_and_links_nothing() {
    use authgate::store::Adapter;
    let db = TestDatabase::new(Backend::Sqlite).await;
    let setup = setup(&["idp", "other"], "", &database_extra(&db), 3600);
    // The victim is signed in.
    let victim = Browser::new(&setup.server);
    sign_in(&victim, &setup.idp, "idp", "ada").await;
    let victim_id = victim.session().await["user"]["id"].clone();
    assert!(victim_id.is_string());
    // The attacker starts a round trip in its own browser and authenticates as itself.
    let attacker = Browser::new(&setup.server);
    let authorization = start_sign_in(&attacker, "other", "/home").await;
    let callback = authorize(&attacker, &setup.idp, &authorization, "mallory").await;
    // A sibling subdomain plants the attacker's check cookies in the victim's browser,
    // which then follows the attacker's callback URL.
    let base: url::Url = setup.server.base.parse().unwrap();
    let attacker_cookies = attacker.cookie_header();
    let planted: Vec<&str> = attacker_cookies
        .split("; ")
        .filter(|pair| {
            [
                "authjs.state=",
                "authjs.pkce.code_verifier=",
                "authjs.nonce=",
            ]
            .iter()
            .any(|name| pair.starts_with(name))
        })
        .collect();
    assert!(!planted.is_empty(), "{attacker_cookies}");
    for pair in planted {
        victim.jar.add_cookie_str(&format!("{pair}; Path=/"), &base);
    }
    let response = victim.http.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(error_of(&location).as_deref(), Some("OAuthCallback"));
    // Still the victim, and mallory's account is linked to nobody.
    assert_eq!(victim.session().await["user"]["id"], victim_id);
    assert_eq!(
        linked_accounts(&db, &victim_id).await,
        vec![("idp".to_string(), "ada".to_string())]
    );
    let store = db.store().await;
    assert!(
        store
            .get_user_by_account("other", "mallory")
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

#[tokio::test]
async fn a_signed_in_user_links_a_second_account() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let setup = setup(&["idp", "other"], "", &database_extra(&db), 3600);
    let browser = Browser::new(&setup.server);
    sign_in(&browser, &setup.idp, "idp", "ada").await;
    let first = browser.session().await["user"]["id"].clone();
    assert!(first.is_string());
    // Same browser, second provider, another identity at the IdP.
    // `prompt=login` is forwarded to the IdP, which then asks who signs in.
    let authorization = start_sign_in_with(&browser, "other", "/home", "?prompt=login").await;
    assert!(authorization.contains("prompt=login"), "{authorization}");
    let callback = authorize(&browser, &setup.idp, &authorization, "bob").await;
    browser.http.get(&callback).send().await.unwrap();
    assert_eq!(browser.session().await["user"]["id"], first);
    assert_eq!(
        linked_accounts(&db, &first).await,
        vec![("idp".into(), "ada".into()), ("other".into(), "bob".into())]
    );
}

async fn concurrent_reads(server: &Server, cookie: &str, count: usize) -> Vec<Value> {
    let reads = (0..count).map(|_| async {
        crate::support::client()
            .get(server.url("/api/auth/session"))
            .header("cookie", cookie.to_string())
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    futures::future::join_all(reads).await
}

#[tokio::test]
async fn expired_access_tokens_are_refreshed_once_for_concurrent_jwt_reads() {
    let setup = setup(
        &["idp"],
        "    refresh: auto\n    refreshMargin: 0s\n",
        "jwt:\n  encryption: true\n",
        2,
    );
    let browser = Browser::new(&setup.server);
    sign_in(&browser, &setup.idp, "idp", "ada").await;
    let before = browser.session().await["accessToken"].clone();
    assert!(before.is_string());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    setup.idp.reset_stats().await;
    let sessions = concurrent_reads(&setup.server, &browser.cookie_header(), 20).await;
    assert_eq!(setup.idp.stats().await["refresh_token"], json!(1));
    for session in &sessions {
        assert_eq!(session["user"]["email"], "ada@example.com");
        assert!(session.get("error").is_none(), "{session}");
        assert_ne!(session["accessToken"], before);
    }
    let first = &sessions[0]["accessToken"];
    assert!(sessions.iter().all(|s| &s["accessToken"] == first));

    // The browser's own cookie (the old tokens) gets the shared answer, and the new
    // tokens in a re-issued cookie.
    assert_eq!(browser.session().await["accessToken"], *first);

    // With the IdP gone, a due refresh fails and says so, but the session stays.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut idp = setup.idp;
    idp.stop();
    let session = browser.session().await;
    assert_eq!(session["error"], "RefreshAccessTokenError");
    assert_eq!(session["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn expired_access_tokens_are_refreshed_once_for_database_sessions() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let setup = setup(
        &["idp"],
        "    refresh: auto\n    refreshMargin: 0s\n",
        &database_extra(&db),
        2,
    );
    let browser = Browser::new(&setup.server);
    sign_in(&browser, &setup.idp, "idp", "ada").await;
    let store = db.store().await;
    use authgate::store::Adapter;
    let before = store.get_account("idp", "ada").await.unwrap().unwrap();
    assert!(before.refresh_token.is_some());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    setup.idp.reset_stats().await;
    let sessions = concurrent_reads(&setup.server, &browser.cookie_header(), 20).await;
    assert_eq!(setup.idp.stats().await["refresh_token"], json!(1));
    assert!(
        sessions
            .iter()
            .all(|s| s["user"]["email"] == "ada@example.com" && s.get("error").is_none())
    );
    let after = store.get_account("idp", "ada").await.unwrap().unwrap();
    assert_ne!(after.access_token, before.access_token);
    assert_ne!(after.refresh_token, before.refresh_token, "rotated");
    assert!(after.expires_at > before.expires_at);
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWS with a chosen header, signed (or not) by hand.
fn handmade(
    header: Value,
    claims: &serde_json::Map<String, Value>,
    hmac_key: Option<&[u8]>,
) -> String {
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(Value::Object(claims.clone()).to_string().as_bytes())
    );
    let signature = match hmac_key {
        Some(key) => {
            let signer = josekit::jws::HS256.signer_from_bytes(key).unwrap();
            use josekit::jws::JwsSigner;
            base64url(&signer.sign(signing_input.as_bytes()).unwrap())
        }
        None => String::new(),
    };
    format!("{signing_input}.{signature}")
}

#[tokio::test]
async fn forged_or_misaddressed_id_tokens_are_refused() {
    use crate::support::fake_idp::FakeIdp;
    let fake = FakeIdp::start();
    let port = free_port();
    let provider = format!(
        "  - id: fake\n    type: oidc\n    issuer: {}\n    clientId: fake-client\n    clientSecret: {CLIENT_SECRET}\n",
        fake.issuer
    );
    let dir = ConfigDir::new(&config(port, &provider, ""));
    let server = Server::start(&dir.config_path(), port);
    type Forge = Box<dyn Fn(&FakeIdp, &str) -> String>;
    let edited = |edit: fn(&mut serde_json::Map<String, Value>)| -> Forge {
        Box::new(move |fake: &FakeIdp, nonce: &str| {
            let mut claims = fake.claims("fake-client", nonce);
            edit(&mut claims);
            fake.sign(&claims, None)
        })
    };
    let cases: Vec<(&str, Forge, Option<&str>)> = vec![
        ("a valid token", edited(|_| {}), None),
        (
            "nonce mismatch",
            edited(|c| {
                c.insert("nonce".into(), json!("another-nonce"));
            }),
            Some("OAuthCallback"),
        ),
        (
            "wrong iss",
            edited(|c| {
                c.insert("iss".into(), json!("https://evil.example"));
            }),
            Some("OAuthCallback"),
        ),
        (
            "wrong aud",
            edited(|c| {
                c.insert("aud".into(), json!("another-client"));
            }),
            Some("OAuthCallback"),
        ),
        (
            "expired",
            edited(|c| {
                c.insert("exp".into(), json!(1_000_000));
                c.insert("iat".into(), json!(999_000));
            }),
            Some("OAuthCallback"),
        ),
        (
            "signed by a foreign key",
            Box::new(|fake: &FakeIdp, nonce: &str| {
                fake.sign(
                    &fake.claims("fake-client", nonce),
                    Some(&FakeIdp::foreign_key()),
                )
            }),
            Some("OAuthCallback"),
        ),
        (
            "alg none",
            Box::new(|fake: &FakeIdp, nonce: &str| {
                handmade(
                    json!({"alg": "none", "typ": "JWT"}),
                    &fake.claims("fake-client", nonce),
                    None,
                )
            }),
            Some("OAuthCallback"),
        ),
        (
            "HS256 keyed with the public key",
            Box::new(|fake: &FakeIdp, nonce: &str| {
                handmade(
                    json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
                    &fake.claims("fake-client", nonce),
                    Some(&fake.public_pem()),
                )
            }),
            Some("OAuthCallback"),
        ),
    ];
    for (name, forge, expected_error) in cases {
        let browser = Browser::new(&server);
        let authorization = start_sign_in(&browser, "fake", "/home").await;
        fake.answer_with(forge(&fake, &query_param(&authorization, "nonce")));
        let state = query_param(&authorization, "state");
        let response = browser
            .http
            .get(browser.url(&format!("/callback/fake?code=c&state={state}")))
            .send()
            .await
            .unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(
            error_of(&location).as_deref(),
            expected_error,
            "{name}: {}",
            server.log()
        );
        let session = browser.session().await;
        assert_eq!(
            session != Value::Null,
            expected_error.is_none(),
            "{name}: {session}"
        );
    }
}

#[tokio::test]
async fn form_post_responses_continue_as_a_get_that_carries_the_check_cookies() {
    let setup = setup(&["idp"], "    responseMode: form_post\n", "", 3600);
    let browser = Browser::new(&setup.server);
    let authorization = start_sign_in(&browser, "idp", "/home").await;
    assert!(authorization.contains("response_mode=form_post"));
    let callback = walk(&browser, &setup.idp, &authorization, "ada").await;
    let fields = callback.form.expect("the IdP posts the response");
    assert!(fields.iter().any(|(name, _)| name == "code"));
    // The cross-site POST arrives without the browser's Lax cookies.
    let posted = crate::support::client()
        .post(&callback.url)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FOUND);
    let get = posted.headers()["location"].to_str().unwrap().to_string();
    assert!(
        get.starts_with(&callback.url) && get.contains("code="),
        "{get}"
    );
    // The browser follows it as a top-level GET, with its cookies.
    let landed = browser.http.get(&get).send().await.unwrap();
    assert_eq!(
        landed.headers()["location"],
        format!("{}/home", setup.server.base)
    );
    assert_eq!(browser.session().await["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn userinfo_requests_follow_the_provider_quirks() {
    use crate::support::fake_idp::FakeIdp;
    let fake = FakeIdp::start();
    let port = free_port();
    let profile = "    profile: |\n      let primary = (profile.emails ?? []).filter(|e| e.primary);\n      #{ id: profile.sub, name: `${profile.method} key=${profile.api_key} bearer=${profile.bearer} v=${profile.query?.v}`, email: if primary.len() > 0 { primary[0].email } else { tokens.email }, image: profile.user?.image }\n";
    let provider = |id: &str, userinfo: &str| {
        format!(
            "  - id: {id}\n    type: oauth\n    authorization: {issuer}/authorize\n    token: {issuer}/token\n    checks: [state]\n    clientId: {id}-client\n    clientSecret: {CLIENT_SECRET}\n    userinfo:\n      url: {issuer}/userinfo\n{userinfo}{profile}",
            issuer = fake.issuer
        )
    };
    let github_like = provider(
        "github-like",
        &format!("      include:\n        emails: {}/emails\n", fake.issuer),
    );
    let quirky = provider(
        "quirky",
        "      method: POST\n      headers:\n        x-api-key: \"{clientId}\"\n      params:\n        v: \"20230131\"\n      tokenParam: oauth_token\n",
    );
    let providers = format!("{github_like}{quirky}");
    let dir = ConfigDir::new(&config(port, &providers, ""));
    let server = Server::start(&dir.config_path(), port);
    let cases = [
        (
            "github-like",
            "GET key= bearer=true v=",
            "primary@example.com",
        ),
        (
            "quirky",
            "POST key=quirky-client bearer=false v=20230131",
            "from-token@example.com",
        ),
    ];
    for (id, name, email) in cases {
        let browser = Browser::new(&server);
        let authorization = start_sign_in(&browser, id, "/home").await;
        let state = query_param(&authorization, "state");
        let response = browser
            .http
            // An unsigned `user` parameter must not reach the profile (only form_post
            // providers take Apple's, and never over a claim).
            .get(browser.url(&format!(
                "/callback/{id}?code=c&state={state}&user=%7B%22image%22%3A%22https%3A%2F%2Fevil.example%2Fx.png%22%7D"
            )))
            .send()
            .await
            .unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(error_of(&location), None, "{id}: {}", server.log());
        let session = browser.session().await;
        assert_eq!(session["user"]["name"], name, "{id}");
        assert_eq!(session["user"]["email"], email, "{id}");
        assert_eq!(session["user"].get("image"), None, "{id}: {session}");
    }
}

#[tokio::test]
async fn a_session_whose_user_is_gone_does_not_block_the_next_sign_in() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let setup = setup(
        &["idp"],
        "",
        &format!("{}session:\n  strategy: jwt\n", database_extra(&db)),
        3600,
    );
    let browser = Browser::new(&setup.server);
    sign_in(&browser, &setup.idp, "idp", "ada").await;
    let first = browser.session().await["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    use authgate::store::Adapter;
    let store = db.store().await;
    store.delete_user(&first).await.unwrap();
    // The JWT still names the deleted user: it is not a signed-in user to link to.
    let landed = sign_in(&browser, &setup.idp, "idp", "ada").await;
    assert_eq!(error_of(&landed), None, "{landed}");
    let second = browser.session().await["user"]["id"].clone();
    assert!(second.is_string());
    assert_ne!(second, first.as_str());
}

#[tokio::test]
async fn a_session_planted_from_another_browser_never_receives_a_linked_account() {
    use authgate::store::Adapter;
    let db = TestDatabase::new(Backend::Sqlite).await;
    let setup = setup(&["idp", "other"], "", &database_extra(&db), 3600);
    let attacker = Browser::new(&setup.server);
    sign_in(&attacker, &setup.idp, "idp", "mallory").await;
    let attacker_id = attacker.session().await["user"]["id"].clone();
    assert!(attacker_id.is_string());
    // A sibling subdomain plants the attacker's own, valid session cookie in the victim's
    // browser, which then signs in with its own account at another provider.
    let victim = Browser::new(&setup.server);
    victim.csrf().await;
    let base: url::Url = setup.server.base.parse().unwrap();
    let token = attacker
        .session_token()
        .expect("the attacker's session cookie");
    victim
        .jar
        .add_cookie_str(&format!("authjs.session-token={token}; Path=/"), &base);
    let authorization = start_sign_in(&victim, "other", "/home").await;
    let callback = authorize(&victim, &setup.idp, &authorization, "bob").await;
    let response = victim.http.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    // bob's account belongs to a user of its own, and the attacker's user has only its own.
    let store = db.store().await;
    let bob = store
        .get_user_by_account("other", "bob")
        .await
        .unwrap()
        .expect("bob signed in as himself");
    assert_ne!(Value::String(bob.id.clone()), attacker_id);
    store.close().await;
    assert_eq!(
        linked_accounts(&db, &attacker_id).await,
        vec![("idp".to_string(), "mallory".to_string())]
    );
    assert_eq!(victim.session().await["user"]["id"], bob.id.as_str());
}
