//! A browser for the integration tests: a cookie jar, no automatic redirects, and the
//! Auth.js calls a page makes (`/csrf`, `/session`, the credentials form).

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};

use super::Server;

pub struct Browser {
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
}

impl Browser {
    pub fn new(server: &Server) -> Browser {
        Browser::at(&server.base)
    }

    /// A browser for the site at `base` (a proxy in front of several servers).
    pub fn at(base: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            jar,
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/auth{path}", self.base)
    }

    /// `GET {basePath}<path>` with this browser's cookies, read as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn csrf(&self) -> String {
        self.get_json("/csrf").await["csrfToken"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn session(&self) -> Value {
        self.get_json("/session").await
    }

    pub async fn sign_in(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/callback/password"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in as `ada` (the fixture `credentials.yaml`'s user) with a fresh CSRF token;
    /// the answer.
    pub async fn sign_in_as_ada(&self) -> reqwest::Response {
        let csrf = self.csrf().await;
        self.sign_in(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", &csrf),
        ])
        .await
    }

    /// `POST /signout` with a fresh CSRF token; the answer.
    pub async fn sign_out(&self) -> reqwest::Response {
        let csrf = self.csrf().await;
        self.http
            .post(self.url("/signout"))
            .form(&[("csrfToken", csrf.as_str())])
            .send()
            .await
            .unwrap()
    }

    /// `POST /session` with `data`; the session it answers.
    pub async fn update(&self, csrf: &str, data: Value) -> Value {
        self.http
            .post(self.url("/session"))
            .json(&json!({ "csrfToken": csrf, "data": data }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Signs in as `ada` asking for `callbackUrl`, in the v4 JSON convention; the `url`
    /// answered.
    pub async fn sign_in_to(&self, csrf: &str, callback_url: &str) -> Value {
        let response = self
            .sign_in(&[
                ("username", "ada"),
                ("password", "correct horse"),
                ("csrfToken", csrf),
                ("callbackUrl", callback_url),
                ("json", "true"),
            ])
            .await;
        let body: Value = response.json().await.unwrap();
        body["url"].clone()
    }

    /// The session token cookie's value (unchunked).
    pub fn session_token(&self) -> Option<String> {
        self.cookie_header()
            .split("; ")
            .find_map(|pair| pair.strip_prefix("authjs.session-token="))
            .map(str::to_string)
    }

    /// The cookies the jar would send to the server, as `name=value; ...`.
    pub fn cookie_header(&self) -> String {
        self.jar
            .cookies(&self.base.parse().unwrap())
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}
