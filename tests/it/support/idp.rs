//! Identity providers for the OAuth tests: the real one (`tests/idp/idp.mjs`, panva's
//! oidc-provider under Node), and a browser walk through its login and consent with plain
//! HTTP form posts.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::Browser;

pub const CLIENT_SECRET: &str = "idp-client-secret-0123456789";

/// The redirect URI of provider `id` on the authgate server on `port`.
pub fn callback_uri(port: u16, id: &str) -> String {
    format!("http://127.0.0.1:{port}/api/auth/callback/{id}")
}

/// A running oidc-provider, stopped on drop.
pub struct Idp {
    child: Child,
    pub issuer: String,
    _dir: tempfile::TempDir,
}

fn idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp")
}

impl Idp {
    /// Starts the provider with one confidential client per `(client_id, redirect_uri)`.
    pub fn start(clients: &[(&str, String)], access_token_ttl: u64) -> Idp {
        assert!(
            idp_dir().join("node_modules/oidc-provider").is_dir(),
            "the test IdP is not installed: run `npm ci --prefix tests/idp` (.ci/run does)"
        );
        let clients: Vec<Value> = clients
            .iter()
            .map(|(id, redirect)| {
                json!({
                    "client_id": id,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [redirect],
                    "token_endpoint_auth_method": "client_secret_basic",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                })
            })
            .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("idp.json");
        std::fs::write(
            &config,
            json!({"port": 0, "clients": clients, "accessTokenTtl": access_token_ttl}).to_string(),
        )
        .expect("write idp config");
        let mut child = Command::new("node")
            .arg(idp_dir().join("idp.mjs"))
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("idp stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("idp ready line");
        let issuer = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the IdP did not start: {line:?}"))
            .to_string();
        Idp {
            child,
            issuer,
            _dir: dir,
        }
    }

    /// The provider with one client, `<id>-client`, for the provider `id` of the authgate
    /// server on `port`.
    pub fn start_for(port: u16, id: &str) -> Idp {
        let client = format!("{id}-client");
        Idp::start(&[(client.as_str(), callback_uri(port, id))], 3600)
    }

    /// Token-endpoint requests so far, by grant type.
    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/__stats", self.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn reset_stats(&self) {
        reqwest::Client::new()
            .post(format!("{}/__stats/reset", self.issuer))
            .send()
            .await
            .unwrap();
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop();
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// `POST /signin/<provider>`: the authorization URL authgate redirects to.
pub async fn start_sign_in(browser: &Browser, provider: &str, callback_url: &str) -> String {
    start_sign_in_with(browser, provider, callback_url, "").await
}

/// The same, with a query string (authorization parameters to forward).
pub async fn start_sign_in_with(
    browser: &Browser,
    provider: &str,
    callback_url: &str,
    query: &str,
) -> String {
    let csrf = browser.csrf().await;
    let response = browser
        .http
        .post(browser.url(&format!("/signin/{provider}{query}")))
        .form(&[("csrfToken", csrf.as_str()), ("callbackUrl", callback_url)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "sign-in start");
    location(&response)
}

/// Walks the IdP's login and consent as `login`, from the authorization URL to the
/// redirect back to authgate; that callback URL (not yet requested).
pub async fn authorize(
    browser: &Browser,
    idp: &Idp,
    authorization_url: &str,
    login: &str,
) -> String {
    let callback = walk(browser, idp, authorization_url, login).await;
    assert!(callback.form.is_none(), "the IdP answered with a form post");
    callback.url
}

/// How the IdP sends the browser back: a redirect (`form: None`), or (`form_post`) a page
/// that posts `form` to `url`.
pub struct Callback {
    pub url: String,
    pub form: Option<Vec<(String, String)>>,
}

/// The walk of `authorize`, for either response mode.
pub async fn walk(browser: &Browser, idp: &Idp, authorization_url: &str, login: &str) -> Callback {
    let mut url = authorization_url.to_string();
    let mut interactions = 0;
    for _ in 0..10 {
        if url.starts_with(&browser.base) {
            return Callback { url, form: None };
        }
        let absolute = if url.starts_with('/') {
            format!("{}{url}", idp.issuer)
        } else {
            url.clone()
        };
        let response = if absolute.contains("/interaction/") {
            interactions += 1;
            let form: Vec<(&str, &str)> = if interactions == 1 {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else {
                vec![("prompt", "consent")]
            };
            browser
                .http
                .post(&absolute)
                .form(&form)
                .send()
                .await
                .unwrap()
        } else {
            browser.http.get(&absolute).send().await.unwrap()
        };
        if response.status() == StatusCode::OK {
            // Another account signs in where one is signed in at the IdP: it ends that
            // session first, through an auto-submitting form.
            let body = response.text().await.unwrap_or_default();
            let (action, fields) = auto_submit_form(&body)
                .unwrap_or_else(|| panic!("{absolute} answered a page without a form: {body}"));
            if action.starts_with(&browser.base) {
                return Callback {
                    url: action,
                    form: Some(fields),
                };
            }
            let response = browser
                .http
                .post(&action)
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_redirection(),
                "{action}: {}",
                response.status()
            );
            url = location(&response);
            continue;
        }
        if !response.status().is_redirection() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            panic!("{absolute} answered {status}: {body}");
        }
        url = location(&response);
    }
    panic!("the IdP never redirected back to authgate");
}

/// The action and hidden fields of the one form on an auto-submitting page.
fn auto_submit_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].to_string())
    };
    let form_start = html.find("<form")?;
    let form_tag = &html[form_start..form_start + html[form_start..].find('>')?];
    let action = attribute(form_tag, "action")?;
    let fields = html[form_start..]
        .split("<input")
        .skip(1)
        .filter_map(|input| {
            let tag = &input[..input.find('>')?];
            Some((attribute(tag, "name")?, attribute(tag, "value")?))
        })
        .collect();
    Some((action, fields))
}

/// The whole sign-in: the final redirect authgate answers the callback with.
pub async fn sign_in(browser: &Browser, idp: &Idp, provider: &str, login: &str) -> String {
    let authorization = start_sign_in(browser, provider, "/home").await;
    let callback = authorize(browser, idp, &authorization, login).await;
    let response = browser.http.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "callback");
    location(&response)
}
