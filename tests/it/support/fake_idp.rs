//! A controlled OpenID Provider for the id_token attack tests: it serves discovery, a JWKS
//! and a token endpoint that answers whatever id_token the test sets, so the test can hand
//! authgate forged, expired or misaddressed tokens.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::JwtPayload;
use serde_json::{Map, Value, json};

pub struct FakeIdp {
    pub issuer: String,
    key: Jwk,
    next_id_token: Arc<Mutex<String>>,
}

fn key_pair(kid: &str) -> Jwk {
    let pair = RS256.generate_key_pair(2048).expect("RSA key");
    let mut jwk = pair.to_jwk_key_pair();
    jwk.set_key_id(kid);
    jwk.set_algorithm("RS256");
    jwk
}

/// The access token, from `Authorization: Bearer` or the `oauth_token` parameter.
fn access_token(request: &actix_web::HttpRequest) -> Option<String> {
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_string);
    let query: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    bearer.or_else(|| query.get("oauth_token").cloned())
}

/// Userinfo that tells how it was asked: method, token, `x-api-key` and the query.
async fn echo_userinfo(request: actix_web::HttpRequest) -> HttpResponse {
    if access_token(&request).as_deref() != Some("fake-access-token") {
        return HttpResponse::Unauthorized().finish();
    }
    let query: Map<String, Value> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
    HttpResponse::Ok().json(json!({
        "sub": "fake-user",
        "method": request.method().as_str(),
        "api_key": request.headers().get("x-api-key").and_then(|v| v.to_str().ok()),
        "bearer": request.headers().contains_key("authorization"),
        "query": query,
    }))
}

/// GitHub-style `/user/emails`.
async fn emails(request: actix_web::HttpRequest) -> HttpResponse {
    if access_token(&request).as_deref() != Some("fake-access-token") {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok().json(json!([
        {"email": "old@example.com", "primary": false, "verified": true},
        {"email": "primary@example.com", "primary": true, "verified": true},
    ]))
}

impl FakeIdp {
    pub fn start() -> FakeIdp {
        // Bound here and served as is: the issuer's port is known before anyone else can
        // take it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake idp");
        let port = listener.local_addr().expect("fake idp address").port();
        let issuer = format!("http://127.0.0.1:{port}");
        let key = key_pair("k1");
        let mut public = key.to_public_key().expect("public key");
        public.set_key_id("k1");
        public.set_algorithm("RS256");
        let next_id_token = Arc::new(Mutex::new(String::new()));
        let (discovery, jwks, token) = (
            json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
            }),
            json!({ "keys": [Value::Object(public.into())] }),
            next_id_token.clone(),
        );
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let (discovery, jwks, token) = (discovery.clone(), jwks.clone(), token.clone());
                    App::new()
                        .route(
                            "/.well-known/openid-configuration",
                            web::get().to(move || {
                                let body = discovery.clone();
                                async move { HttpResponse::Ok().json(body) }
                            }),
                        )
                        .route(
                            "/jwks",
                            web::get().to(move || {
                                let body = jwks.clone();
                                async move { HttpResponse::Ok().json(body) }
                            }),
                        )
                        .route("/userinfo", web::route().to(echo_userinfo))
                        .route("/emails", web::get().to(emails))
                        .route(
                            "/token",
                            web::post().to(move || {
                                let id_token = token.lock().unwrap().clone();
                                async move {
                                    HttpResponse::Ok().json(json!({
                                        "access_token": "fake-access-token",
                                        "token_type": "Bearer",
                                        "expires_in": 3600,
                                        "id_token": id_token,
                                        // As VK does: the email comes with the token.
                                        "email": "from-token@example.com",
                                    }))
                                }
                            }),
                        )
                })
                .workers(1)
                .listen(listener)
                .expect("serve fake idp")
                .run();
                ready.send(()).expect("ready");
                server.await.expect("fake idp runs");
            });
        });
        started.recv().expect("fake idp started");
        FakeIdp {
            issuer,
            key,
            next_id_token,
        }
    }

    /// The id_token the token endpoint answers next.
    pub fn answer_with(&self, id_token: String) {
        *self.next_id_token.lock().unwrap() = id_token;
    }

    /// Standard claims for `client_id` with `nonce`, valid now.
    pub fn claims(&self, client_id: &str, nonce: &str) -> Map<String, Value> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        json!({
            "iss": self.issuer,
            "sub": "fake-user",
            "aud": client_id,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "email": "fake@example.com",
            "name": "Fake User",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    /// Signed with the published key (or `key`, to forge).
    pub fn sign(&self, claims: &Map<String, Value>, key: Option<&Jwk>) -> String {
        let key = key.unwrap_or(&self.key);
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id("k1");
        let payload = JwtPayload::from_map(claims.clone()).unwrap();
        let signer = RS256.signer_from_jwk(key).unwrap();
        josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap()
    }

    /// A key the IdP never published, with the same kid.
    pub fn foreign_key() -> Jwk {
        key_pair("k1")
    }

    /// The public key's PEM, for the HMAC key-confusion forgery.
    pub fn public_pem(&self) -> Vec<u8> {
        josekit::jwk::alg::rsa::RsaKeyPair::from_jwk(&self.key)
            .expect("key pair")
            .to_pem_public_key()
    }
}
