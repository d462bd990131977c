//! The hot path of `GET /session`: decode the cookie, run the jwt and session callbacks,
//! re-encode and plan the cookie writes, for JWS (HS512) and JWE (A256GCM) sessions, next
//! to josekit's raw verify/decrypt cost. Run with `cargo bench --bench session_read`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

use authgate::actions::{AuthRequest, Method, RequestOrigin, session};
use authgate::config::ConfigSource;
use authgate::pipeline::{Pipeline, build_pipeline};
use authgate::session::jwt::{decode, encode};

const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

fn pipeline(encryption: bool) -> Pipeline {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("authgate.yaml");
    std::fs::write(
        &path,
        format!(
            "url: http://127.0.0.1:3000\nsecret: {SECRET}\njwt:\n  encryption: {encryption}\ncallbacks:\n  jwt: |\n    if user != () {{ token.role = \"admin\"; }}\n    token\n  session: |\n    session.user.id = token.sub;\n    session.user.role = token.role;\n    session\n"
        ),
    )
    .expect("write config");
    let env: HashMap<String, String> = HashMap::new();
    build_pipeline(&ConfigSource::new(&path), &env, 1).expect("valid config")
}

fn request(pipeline: &Pipeline) -> AuthRequest {
    let name = pipeline.cookies.session_token.name.clone();
    let keys = pipeline.session_keys.for_cookie(&name).expect("keys");
    let claims = json!({"sub": "42", "name": "Ada", "email": "ada@example.com", "role": "admin"});
    let token = encode(
        keys,
        claims.as_object().expect("map"),
        pipeline.clock.now(),
        Duration::from_secs(3600),
    )
    .expect("token");
    AuthRequest {
        method: Method::Get,
        query: BTreeMap::new(),
        form: BTreeMap::new(),
        json: None,
        cookies: vec![(name, token)].into(),
        redirect_as_json_header: false,
        client_ip: None,
        user_agent: None,
        authorization: None,
        request_id: None,
        origin: RequestOrigin {
            origin: "http://127.0.0.1:3000".into(),
            base_url: "http://127.0.0.1:3000".into(),
            auth_url: "http://127.0.0.1:3000/api/auth".into(),
            https: false,
        },
    }
}

fn session_read(c: &mut Criterion) {
    for (label, encryption) in [("JWS HS512", false), ("JWE A256GCM", true)] {
        let pipeline = std::sync::Arc::new(pipeline(encryption));
        let request = request(&pipeline);
        // The JWT path waits on nothing but its scripts' hop to the blocking pool; a
        // current-thread runtime drives it, as an actix worker does.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let response = runtime.block_on(session::handle(&request, &pipeline, None));
        assert_eq!(response.status, 200);
        c.bench_function(
            &format!("GET /session ({label}): decode + jwt + session callbacks + encode"),
            |b| b.iter(|| runtime.block_on(session::handle(&request, &pipeline, None))),
        );
        let name = &pipeline.cookies.session_token.name;
        let keys = pipeline.session_keys.for_cookie(name).expect("keys");
        let token = &request.cookies.found[0].1;
        c.bench_function(&format!("token decode only ({label})"), |b| {
            b.iter(|| decode(keys, token, pipeline.clock.now()).expect("valid"))
        });
    }
}

criterion_group!(benches, session_read);
criterion_main!(benches);
