//! A local stand-in for every preset's provider at once. Each preset's endpoints are
//! rewritten to `http://127.0.0.1:<port>/<preset>/<role>/<original host and path>`, and
//! the stand-in answers each role as the provider documents it, from the preset's fixture
//! (`tests/fixtures/profiles/<id>.json`): the token response exactly as the provider
//! sends it (a scope array, a string `expires_in`, no `token_type`), then its userinfo
//! document or a signed id_token. It checks what authgate sends as the provider would:
//! the code, the redirect URI, the client's credentials, the PKCE verifier, the access
//! token (as a bearer, a query parameter or a path segment); a refusal is recorded as a
//! complaint the test reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, HS256, JwsHeader, RS256};
use josekit::jwt::JwtPayload;
use serde_json::{Map, Value, json};
use sha2::Digest;

use super::http_stub;

/// What the stand-in knows of one preset.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub client_id: String,
    pub client_secret: String,
    /// The issuer exactly as authgate is configured with it (oidc).
    pub issuer: Option<String>,
    /// The id_token algorithm (`RS256`, `ES256` or `HS256`).
    pub algorithm: String,
    /// The token endpoint's answer, as the provider documents it.
    pub tokens: Map<String, Value>,
    /// The userinfo document (oauth, or oidc with `profileFrom: userinfo`) or the
    /// id_token's claims (oidc).
    pub profile: Map<String, Value>,
    /// Names of documents fetched beside userinfo (kept out of the userinfo answer).
    pub includes: Vec<String>,
    pub oidc: bool,
    pub profile_from_userinfo: bool,
    /// The id_token's `sub` when it is not the profile's (a userinfo document of another
    /// user).
    pub id_token_subject: Option<String>,
}

struct Authorization {
    preset: String,
    redirect_uri: Option<String>,
    challenge: Option<String>,
    nonce: Option<String>,
}

#[derive(Default)]
struct State {
    scenarios: HashMap<String, Scenario>,
    codes: HashMap<String, Authorization>,
    complaints: Vec<String>,
    /// `<preset> <role> <method>` of every request, in order.
    hits: Vec<String>,
    next_code: u64,
}

pub struct ProviderStandIn {
    pub base: String,
    state: Arc<Mutex<State>>,
}

struct Keys {
    rsa: Jwk,
    ec: Jwk,
    public: Value,
}

fn keys() -> Keys {
    let mut rsa = RS256
        .generate_key_pair(2048)
        .expect("RSA key")
        .to_jwk_key_pair();
    rsa.set_key_id("rsa-1");
    rsa.set_algorithm("RS256");
    let mut ec = ES256.generate_key_pair().expect("EC key").to_jwk_key_pair();
    ec.set_key_id("ec-1");
    ec.set_algorithm("ES256");
    let public: Vec<Value> = [&rsa, &ec]
        .iter()
        .map(|key| {
            let mut public = key.to_public_key().expect("public key");
            public.set_key_id(key.key_id().unwrap_or_default());
            public.set_algorithm(key.algorithm().unwrap_or_default());
            Value::Object(public.into())
        })
        .collect();
    Keys {
        rsa,
        ec,
        public: json!({ "keys": public }),
    }
}

impl ProviderStandIn {
    pub fn start() -> ProviderStandIn {
        let (listener, base) = http_stub::bind();
        let state = Arc::new(Mutex::new(State::default()));
        let (served, keys, served_base) = (state.clone(), keys(), base.clone());
        http_stub::serve(listener, move |request, body| {
            answer(&served, &keys, &served_base, request, body)
        });
        ProviderStandIn { base, state }
    }

    /// `https://host/path?query` as this stand-in's URL for `preset`'s `role` (`token`,
    /// `include/<name>`, ...).
    pub fn rewrite(&self, preset: &str, role: &str, url: &str) -> String {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or(url);
        format!("{}/{preset}/{role}/{rest}", self.base)
    }

    pub fn add(&self, preset: &str, scenario: Scenario) {
        self.state
            .lock()
            .unwrap()
            .scenarios
            .insert(preset.to_string(), scenario);
    }

    /// The roles and methods of `preset`'s requests so far (`token POST`, `userinfo GET`,
    /// `include/emails GET`, ...), in order.
    pub fn hits(&self, preset: &str) -> Vec<String> {
        let prefix = format!("{preset} ");
        self.state
            .lock()
            .unwrap()
            .hits
            .iter()
            .filter_map(|hit| hit.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// What the stand-in refused for `preset` so far.
    pub fn complaints(&self, preset: &str) -> Vec<String> {
        let prefix = format!("{preset}: ");
        self.state
            .lock()
            .unwrap()
            .complaints
            .iter()
            .filter(|complaint| complaint.starts_with(&prefix))
            .cloned()
            .collect()
    }
}

fn refuse(state: &Mutex<State>, preset: &str, why: String) -> HttpResponse {
    state
        .lock()
        .unwrap()
        .complaints
        .push(format!("{preset}: {why}"));
    HttpResponse::BadRequest().json(json!({"error": "invalid_request", "error_description": why}))
}

fn parameters(request: &HttpRequest, body: &[u8]) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> =
        url::form_urlencoded::parse(request.query_string().as_bytes())
            .into_owned()
            .collect();
    all.extend(url::form_urlencoded::parse(body).into_owned());
    all
}

fn answer(
    state: &Mutex<State>,
    keys: &Keys,
    base: &str,
    request: &HttpRequest,
    body: &[u8],
) -> HttpResponse {
    let path = request.path().trim_start_matches('/').to_string();
    let mut segments = path.splitn(3, '/');
    let (Some(preset), Some(role)) = (segments.next(), segments.next()) else {
        return HttpResponse::NotFound().finish();
    };
    let rest = segments.next().unwrap_or_default();
    if role == "jwks" {
        return HttpResponse::Ok().json(&keys.public);
    }
    let role_path = if role == "include" {
        format!("include/{}", rest.split('/').next().unwrap_or_default())
    } else {
        role.to_string()
    };
    state
        .lock()
        .unwrap()
        .hits
        .push(format!("{preset} {role_path} {}", request.method()));
    let Some(scenario) = state.lock().unwrap().scenarios.get(preset).cloned() else {
        return HttpResponse::NotFound().finish();
    };
    match role {
        "issuer" if rest.ends_with(".well-known/openid-configuration") => {
            discovery(base, preset, &scenario)
        }
        "authorize" => authorize(state, preset, request),
        "token" => token(state, keys, preset, &scenario, request, body),
        "userinfo" | "include" => {
            if !carries_access_token(request, &scenario) {
                return refuse(
                    state,
                    preset,
                    format!("{role} {path}: the access token is missing"),
                );
            }
            userinfo(state, preset, &scenario, role, rest)
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

fn discovery(base: &str, preset: &str, scenario: &Scenario) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "issuer": scenario.issuer,
        "authorization_endpoint": format!("{base}/{preset}/authorize/discovered"),
        "token_endpoint": format!("{base}/{preset}/token/discovered"),
        "userinfo_endpoint": format!("{base}/{preset}/userinfo/discovered"),
        "jwks_uri": format!("{base}/{preset}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [scenario.algorithm],
    }))
}

/// Records the request and sends the browser back with a code, as a consenting user's
/// provider does.
fn authorize(state: &Mutex<State>, preset: &str, request: &HttpRequest) -> HttpResponse {
    let query = parameters(request, &[]);
    if query.get("response_type").map(String::as_str) != Some("code") {
        return refuse(state, preset, format!("authorize: response_type {query:?}"));
    }
    let Some(redirect_uri) = query.get("redirect_uri").cloned() else {
        return refuse(state, preset, "authorize: no redirect_uri".into());
    };
    if query.contains_key("code_challenge")
        && query.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return refuse(state, preset, "authorize: PKCE without S256".into());
    }
    let mut state_guard = state.lock().unwrap();
    state_guard.next_code += 1;
    let code = format!("code-{preset}-{}", state_guard.next_code);
    state_guard.codes.insert(
        code.clone(),
        Authorization {
            preset: preset.to_string(),
            redirect_uri: Some(redirect_uri.clone()),
            challenge: query.get("code_challenge").cloned(),
            nonce: query.get("nonce").cloned(),
        },
    );
    drop(state_guard);
    let mut back = url::Url::parse(&redirect_uri).expect("redirect_uri is a URL");
    back.query_pairs_mut().append_pair("code", &code);
    if let Some(sent) = query.get("state") {
        back.query_pairs_mut().append_pair("state", sent);
    }
    HttpResponse::Found()
        .insert_header(("location", back.to_string()))
        .finish()
}

/// The client's secret, from HTTP Basic or any form parameter (WeChat's `secret`).
fn client_authenticated(
    request: &HttpRequest,
    params: &BTreeMap<String, String>,
    scenario: &Scenario,
) -> bool {
    let basic = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let by_basic = basic.is_some_and(|pair| {
        let decode = |part: &str| {
            url::form_urlencoded::parse(format!("x={part}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        };
        pair.split_once(':').is_some_and(|(id, secret)| {
            decode(id) == scenario.client_id && decode(secret) == scenario.client_secret
        })
    });
    by_basic
        || params
            .values()
            .any(|value| value == &scenario.client_secret)
}

fn token(
    state: &Mutex<State>,
    keys: &Keys,
    preset: &str,
    scenario: &Scenario,
    request: &HttpRequest,
    body: &[u8],
) -> HttpResponse {
    let params = parameters(request, body);
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse(state, preset, format!("token: grant_type in {params:?}"));
    }
    let Some(code) = params.get("code") else {
        return refuse(state, preset, "token: no code".into());
    };
    let Some(authorization) = state.lock().unwrap().codes.remove(code) else {
        return refuse(
            state,
            preset,
            format!("token: unknown or spent code {code}"),
        );
    };
    if authorization.preset != preset {
        return refuse(state, preset, "token: a code of another client".into());
    }
    if params.get("redirect_uri") != authorization.redirect_uri.as_ref() {
        return refuse(state, preset, "token: redirect_uri differs".into());
    }
    if !client_authenticated(request, &params, scenario) {
        return refuse(state, preset, "token: the client secret is missing".into());
    }
    match (&authorization.challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let digest = sha2::Sha256::digest(verifier.as_bytes());
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            if &computed != challenge {
                return refuse(state, preset, "token: the PKCE verifier is wrong".into());
            }
        }
        (Some(_), None) => return refuse(state, preset, "token: no code_verifier".into()),
        (None, Some(_)) => {
            return refuse(
                state,
                preset,
                "token: a verifier without a challenge".into(),
            );
        }
        (None, None) => {}
    }
    let mut answer = scenario.tokens.clone();
    if scenario.oidc {
        match id_token(keys, scenario, authorization.nonce.as_deref()) {
            Ok(signed) => {
                answer.insert("id_token".into(), Value::String(signed));
            }
            Err(error) => return refuse(state, preset, format!("token: signing: {error}")),
        }
    }
    HttpResponse::Ok().json(Value::Object(answer))
}

fn id_token(keys: &Keys, scenario: &Scenario, nonce: Option<&str>) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|error| error.to_string())?
        .as_secs();
    let mut claims = if scenario.profile_from_userinfo {
        let mut claims = Map::new();
        claims.insert("sub".into(), scenario.profile["sub"].clone());
        claims
    } else {
        scenario.profile.clone()
    };
    if let Some(subject) = &scenario.id_token_subject {
        claims.insert("sub".into(), json!(subject));
    }
    claims.insert("iss".into(), json!(scenario.issuer));
    claims.insert("aud".into(), json!(scenario.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 600));
    claims.remove("nonce");
    if claims.contains_key("azp") {
        claims.insert("azp".into(), json!(scenario.client_id));
    }
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let payload = JwtPayload::from_map(claims).map_err(|error| error.to_string())?;
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    let signed = match scenario.algorithm.as_str() {
        "HS256" => {
            let signer = HS256
                .signer_from_bytes(scenario.client_secret.as_bytes())
                .map_err(|error| error.to_string())?;
            josekit::jwt::encode_with_signer(&payload, &header, &signer)
        }
        "ES256" => {
            header.set_key_id("ec-1");
            let signer = ES256
                .signer_from_jwk(&keys.ec)
                .map_err(|error| error.to_string())?;
            josekit::jwt::encode_with_signer(&payload, &header, &signer)
        }
        _ => {
            header.set_key_id("rsa-1");
            let signer = RS256
                .signer_from_jwk(&keys.rsa)
                .map_err(|error| error.to_string())?;
            josekit::jwt::encode_with_signer(&payload, &header, &signer)
        }
    };
    signed.map_err(|error| error.to_string())
}

/// The access token as a bearer header, any query parameter, or a path segment.
fn carries_access_token(request: &HttpRequest, scenario: &Scenario) -> bool {
    let Some(token) = scenario.tokens.get("access_token").and_then(Value::as_str) else {
        return false;
    };
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        });
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    bearer == Some(token)
        || url::form_urlencoded::parse(request.query_string().as_bytes())
            .any(|(_, value)| value == token)
        || request
            .path()
            .split('/')
            .any(|segment| segment == encoded || segment == token)
}

fn userinfo(
    state: &Mutex<State>,
    preset: &str,
    scenario: &Scenario,
    role: &str,
    rest: &str,
) -> HttpResponse {
    if role == "include" {
        let name = rest.split('/').next().unwrap_or_default();
        return match scenario.profile.get(name) {
            Some(document) => HttpResponse::Ok().json(document),
            None => refuse(state, preset, format!("include {name}: not in the fixture")),
        };
    }
    let mut document = scenario.profile.clone();
    for name in &scenario.includes {
        document.remove(name);
    }
    HttpResponse::Ok().json(Value::Object(document))
}
