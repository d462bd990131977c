//! What the session callback of `GET /session` receives as `token`: the token as it is
//! re-issued, whether it reaches the script straight from the jwt callback's result or is
//! converted again from the claims (when that result held authgate's own claims changed,
//! or values JSON cannot hold). Run on the library's session read, without HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use authgate::actions::{AuthRequest, Method, csrf, session};
use authgate::config::ConfigSource;
use authgate::pipeline::{Pipeline, build_pipeline};
use authgate::session::csrf::browser_binding;
use authgate::session::jwt::{decode, encode};

use crate::support::{ConfigDir, library_request};

const SECRET: &str = "session-callbacks-secret-0123456789abcdef0123";

/// The session callback reports what it was given.
const SESSION_CALLBACK: &str = "session.sid = token.sid;\n    session.bnd = token.bnd;\n    session.sub = token.sub;\n    session.tag = token.tag();\n    session.types = #{ c: type_of(token.c), f: type_of(token.f), n: type_of(token.n) };\n    session";

fn pipeline(jwt_callback: Option<&str>) -> (ConfigDir, Arc<Pipeline>) {
    let indent = |script: &str| script.replace('\n', "\n    ");
    let jwt = jwt_callback
        .map(|script| format!("  jwt: |\n    {}\n", indent(script)))
        .unwrap_or_default();
    let dir = ConfigDir::new(&format!(
        "url: http://127.0.0.1:3000\nsecret: {SECRET}\njwt:\n  encryption: true\ncallbacks:\n{jwt}  session: |\n    {SESSION_CALLBACK}\n"
    ));
    let env: HashMap<String, String> = HashMap::new();
    let pipeline = build_pipeline(&ConfigSource::new(dir.config_path()), &env, 1)
        .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    (dir, Arc::new(pipeline))
}

/// A request from a browser (its CSRF cookie) carrying a session token bound to it, with
/// `sub`, `sid` and an integer claim `n`; and the browser's binding.
fn request(pipeline: &Pipeline) -> (AuthRequest, String) {
    let origin = "http://127.0.0.1:3000";
    let (csrf_token, csrf_cookie) =
        csrf::csrf_token(&library_request(origin, Method::Get, &[]), pipeline);
    let csrf_cookie = csrf_cookie
        .and_then(|cookie| cookie.value)
        .expect("a CSRF cookie");
    let binding = browser_binding(&csrf_token);
    let name = pipeline.cookies.session_token.name.clone();
    let keys = pipeline.session_keys.for_cookie(&name).expect("keys");
    let claims = json!({"sub": "42", "sid": "session-1", "bnd": binding, "n": 7});
    let token = encode(
        keys,
        claims.as_object().expect("map"),
        pipeline.clock.now(),
        Duration::from_secs(3600),
    )
    .expect("token");
    let csrf_name = pipeline.cookies.csrf_token.name.clone();
    let cookies = [
        (name.as_str(), token.as_str()),
        (csrf_name.as_str(), csrf_cookie.as_str()),
    ];
    (library_request(origin, Method::Get, &cookies), binding)
}

#[test]
fn the_session_callback_gets_the_token_as_re_issued() {
    let unchanged = json!({"c": "()", "f": "()", "n": "i64"});
    let cases: [(&str, Option<&str>, Value); 11] = [
        ("no jwt callback", None, unchanged.clone()),
        ("the token unchanged", Some("token"), unchanged.clone()),
        (
            "a claim added",
            Some("token.c = \"x\";\ntoken"),
            json!({"c": "string", "f": "()", "n": "i64"}),
        ),
        (
            "the session id forged",
            Some("token.sid = \"forged\";\ntoken"),
            unchanged.clone(),
        ),
        (
            "the session id made a number",
            Some("token.sid = 5;\ntoken"),
            unchanged.clone(),
        ),
        (
            "the session id removed",
            Some("token.remove(\"sid\");\ntoken"),
            unchanged.clone(),
        ),
        (
            "the browser forged",
            Some("token.bnd = \"another browser\";\ntoken"),
            unchanged.clone(),
        ),
        (
            "the browser removed",
            Some("token.bnd = ();\ntoken"),
            unchanged.clone(),
        ),
        (
            "a character, which JSON writes as a string",
            Some("token.c = 'x';\ntoken"),
            json!({"c": "string", "f": "()", "n": "i64"}),
        ),
        (
            "a float JSON cannot hold, which it writes as null",
            Some("token.f = 0.0 / 0.0;\ntoken"),
            unchanged.clone(),
        ),
        (
            "a tag, which JSON does not keep",
            Some("token.set_tag(7);\ntoken"),
            unchanged,
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for (case, jwt_callback, types) in cases {
        let (_dir, pipeline) = pipeline(jwt_callback);
        let (request, binding) = request(&pipeline);
        let response = runtime.block_on(session::handle(&request, &pipeline, None));
        assert_eq!(response.status, 200, "{case}");
        let authgate::actions::Body::Json(session) = &response.body else {
            panic!("{case}: not JSON");
        };
        assert_eq!(session["sid"], "session-1", "{case}: {session}");
        assert_eq!(session["bnd"], binding.as_str(), "{case}: {session}");
        assert_eq!(session["sub"], "42", "{case}: {session}");
        assert_eq!(session["types"], types, "{case}: {session}");
        assert_eq!(session["tag"], 0, "{case}: {session}");
        // The cookie re-issued holds what the session callback was shown.
        let name = &pipeline.cookies.session_token.name;
        let cookie = response
            .cookies
            .iter()
            .find(|cookie| &cookie.spec.name == name)
            .and_then(|cookie| cookie.value.as_deref())
            .unwrap_or_else(|| panic!("{case}: no session cookie"));
        let keys = pipeline.session_keys.for_cookie(name).expect("keys");
        let claims = decode(keys, cookie, pipeline.clock.now()).expect("re-issued");
        assert_eq!(claims["sid"], "session-1", "{case}");
        assert_eq!(claims["bnd"], binding.as_str(), "{case}");
        let c = claims.get("c").cloned().unwrap_or(Value::Null);
        assert_eq!(c.is_string(), types["c"] == "string", "{case}: {c}");
        assert!(claims.get("f").is_none_or(Value::is_null), "{case}");
    }
}
