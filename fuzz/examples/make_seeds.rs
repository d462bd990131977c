//! Writes the seeds that hold real tokens and cookies, made by authgate itself with the
//! fuzz targets' fixed keys, secrets and clock (`authgate_fuzz`), so they keep decoding:
//!
//!   cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//!
//! It writes `fuzz/seeds/{jwt_decode,csrf,cookie_header}/made-*` (replacing earlier ones)
//! and checks that every seed meant to be valid is accepted. The other seeds are written
//! by hand.

use std::path::{Path, PathBuf};
use std::time::Duration;

use authgate::config::model::{CookiesConfig, JwtAlgorithm};
use authgate::session::chunks::plan_write;
use authgate::session::cookie_header::encode_value;
use authgate::session::cookies::CookiePolicy;
use authgate::session::csrf::{issue_token, verify_token};
use authgate::session::jwt::{decode, encode};
use authgate::session::keys::{KeyFileText, SessionKeys, TokenKeys, derive_encryption_key};
use authgate_fuzz::{
    ES256_RETIRED_KEY_PEM, ES256_SIGNING_KEY_PEM, SECRETS, SESSION_COOKIE, fixed_now,
};
use base64::Engine as _;
use serde_json::{Map, Value, json};

fn seeds_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target)
}

fn write(target: &str, name: &str, contents: impl AsRef<[u8]>) {
    let path = seeds_dir(target).join(format!("made-{name}"));
    std::fs::write(&path, contents).unwrap_or_else(|error| panic!("{path:?}: {error}"));
}

fn claims(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("claims are an object")
}

fn user_claims() -> Map<String, Value> {
    claims(json!({
        "sub": "1", "name": "Ada Lovelace", "email": "ada@example.com",
        "picture": "https://avatars.example.com/1", "role": "admin"
    }))
}

fn symmetric(encryption: bool, secrets: &[&str]) -> SessionKeys {
    SessionKeys::new(
        JwtAlgorithm::HS512,
        encryption,
        secrets,
        &[],
        &[SESSION_COOKIE],
    )
    .expect("symmetric keys")
}

fn es256(first_pem: &str, first_kid: &str) -> SessionKeys {
    let files = [
        KeyFileText {
            kid: Some(first_kid.into()),
            text: first_pem.into(),
        },
        KeyFileText {
            kid: Some("fuzz-0".into()),
            text: ES256_RETIRED_KEY_PEM.into(),
        },
    ];
    SessionKeys::new(
        JwtAlgorithm::ES256,
        false,
        &SECRETS,
        &files,
        &[SESSION_COOKIE],
    )
    .expect("ES256 keys")
}

fn for_cookie(keys: &SessionKeys) -> &TokenKeys {
    keys.for_cookie(SESSION_COOKIE)
        .expect("keys for the cookie")
}

/// A token issued a minute before the fixed clock, valid for 30 days.
fn issue(keys: &TokenKeys, claims: &Map<String, Value>) -> String {
    encode(
        keys,
        claims,
        fixed_now() - Duration::from_secs(60),
        Duration::from_secs(30 * 86_400),
    )
    .expect("encode")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn jwt_seeds() -> String {
    let signed = symmetric(false, &SECRETS);
    let encrypted = symmetric(true, &SECRETS);
    let asymmetric = es256(ES256_SIGNING_KEY_PEM, "fuzz-1");

    let session = issue(for_cookie(&signed), &user_claims());
    let old_secret = issue(for_cookie(&symmetric(false, &SECRETS[1..])), &user_claims());
    let sealed = issue(for_cookie(&encrypted), &user_claims());
    let signed_es256 = issue(for_cookie(&asymmetric), &user_claims());
    let retired = issue(
        for_cookie(&es256(ES256_RETIRED_KEY_PEM, "fuzz-0")),
        &user_claims(),
    );
    for (keys, token) in [
        (&signed, &session),
        (&signed, &old_secret),
        (&encrypted, &sealed),
        (&asymmetric, &signed_es256),
        (&asymmetric, &retired),
    ] {
        decode(for_cookie(keys), token, fixed_now()).expect("a seed token must decode");
    }
    let expired = encode(
        for_cookie(&signed),
        &user_claims(),
        fixed_now() - Duration::from_secs(31 * 86_400),
        Duration::from_secs(30 * 86_400),
    )
    .expect("encode");

    // A256CBC-HS512, which authgate reads (Auth.js may write it) but never writes.
    let key = derive_encryption_key(SECRETS[0], SESSION_COOKIE, "A256CBC-HS512").expect("key");
    let encrypter = josekit::jwe::Dir
        .encrypter_from_bytes(&key)
        .expect("encrypter");
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption("A256CBC-HS512");
    let mut payload = josekit::jwt::JwtPayload::from_map(user_claims()).expect("payload");
    payload.set_issued_at(&(fixed_now() - Duration::from_secs(60)));
    payload.set_expires_at(&(fixed_now() + Duration::from_secs(3600)));
    let cbc = josekit::jwt::encode_with_encrypter(&payload, &header, &encrypter).expect("cbc");
    decode(for_cookie(&encrypted), &cbc, fixed_now()).expect("A256CBC-HS512 must decode");

    // Forgeries: `alg: none`, and HS256 keyed with the ES256 public key (alg confusion).
    let forged_claims = json!({"sub": "admin", "exp": 1_900_000_000u64});
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(forged_claims.to_string().as_bytes())
    );
    let public_pem = {
        let pair = josekit::jws::ES256
            .key_pair_from_pem(ES256_SIGNING_KEY_PEM)
            .expect("pem");
        josekit::jwk::KeyPair::to_pem_public_key(&pair)
    };
    let confused_signer = josekit::jws::HS256
        .signer_from_bytes(&public_pem)
        .expect("signer");
    let mut confused_header = josekit::jws::JwsHeader::new();
    confused_header.set_key_id("fuzz-1");
    let confused = josekit::jwt::encode_with_signer(
        &josekit::jwt::JwtPayload::from_map(claims(forged_claims)).expect("payload"),
        &confused_header,
        &confused_signer,
    )
    .expect("hs256");
    for (keys, token) in [
        (&signed, &none),
        (&asymmetric, &none),
        (&asymmetric, &confused),
    ] {
        assert!(decode(for_cookie(keys), token, fixed_now()).is_err());
    }

    let target = "jwt_decode";
    write(target, "S-hs512", format!("S{session}"));
    write(target, "S-hs512-older-secret", format!("S{old_secret}"));
    write(target, "S-hs512-expired", format!("S{expired}"));
    write(target, "S-alg-none", format!("S{none}"));
    write(target, "E-jwe-a256gcm", format!("E{sealed}"));
    write(target, "E-jwe-a256cbc-hs512", format!("E{cbc}"));
    write(target, "A-es256", format!("A{signed_es256}"));
    write(target, "A-es256-retired-key", format!("A{retired}"));
    write(target, "A-hs256-with-public-key", format!("A{confused}"));
    write(target, "bare-hs512", &session);
    write(target, "bare-jwe", &sealed);
    // Round trips: a few claim maps in the target's byte encoding (see `Choices`).
    write(
        target,
        "R-small",
        b"R\x00\x01\x51\x80\x03\x00\x05\x03Ada\x02\x06\x0fada@example.com\x04\x01\x01",
    );
    write(target, "R-nested", b"R\x02\x10\x00\x00\x02\x08\x02\x05\x04\x05\x01x\x03\x00\x00\x00\x00\x00\x00\x00\x2a\x07\x03\x00\x01\x01\x05\x02ok");
    write(target, "R-registered-claims", b"R\x00\x00\x0e\x10\x04\x05\x05\x04\x07issuer\x06\x07\x02\x05\x01a\x05\x01b\x07\x03\x00\x00\x00\x00\x00\x00\x00\x01");
    session
}

fn csrf_seeds() -> (String, String) {
    let target = "csrf";
    let newest = issue_token(None, &SECRETS);
    let newest_cookie = newest.new_cookie_value.expect("a new cookie");
    let oldest = issue_token(None, &SECRETS[1..]);
    let oldest_cookie = oldest.new_cookie_value.expect("a new cookie");
    assert!(verify_token(Some(&newest_cookie), &newest.token, &SECRETS));
    assert!(verify_token(Some(&oldest_cookie), &oldest.token, &SECRETS));
    let (token, hash) = newest_cookie.split_once('|').expect("a pair");
    write(
        target,
        "valid",
        format!("{newest_cookie}\n{}", newest.token),
    );
    write(
        target,
        "valid-older-secret",
        format!("{oldest_cookie}\n{}", oldest.token),
    );
    write(
        target,
        "valid-percent-encoded",
        format!("{token}%7C{hash}\n{token}"),
    );
    write(
        target,
        "wrong-token",
        format!("{newest_cookie}\n{}", oldest.token),
    );
    write(
        target,
        "truncated-hash",
        format!("{token}|{}\n{token}", &hash[..63]),
    );
    write(target, "empty-token", format!("|{hash}\n"));
    write(target, "no-separator", format!("{token}{hash}\n{token}"));
    write(target, "cookie-only", &newest_cookie);
    (newest_cookie, newest.token)
}

fn cookie_header_seeds(session: &str, csrf_cookie: &str) {
    let target = "cookie_header";
    let http = CookiePolicy::new(&CookiesConfig::default(), false);
    let https = CookiePolicy::new(&CookiesConfig::default(), true);
    let callback = encode_value("http://127.0.0.1:3000/dashboard?tab=1");
    let csrf = encode_value(csrf_cookie);
    write(
        target,
        "http-session",
        format!(
            "{}={csrf}; {}={callback}; {}={session}",
            http.csrf_token.name, http.callback_url.name, http.session_token.name
        ),
    );
    write(
        target,
        "https-session",
        format!(
            "_ga=GA1.1.123.456; {}={csrf}; {}={callback}; {}={session}; theme=dark",
            https.csrf_token.name, https.callback_url.name, https.session_token.name
        ),
    );
    // A session large enough to be split, as plan_write splits it.
    let mut big_claims = user_claims();
    big_claims.insert(
        "groups".into(),
        json!(
            (0..400)
                .map(|i| format!("group-{i:04}"))
                .collect::<Vec<_>>()
        ),
    );
    let big = issue(for_cookie(&symmetric(true, &SECRETS)), &big_claims);
    let writes = plan_write(&https.session_token.name, Some(&big), []);
    assert!(writes.len() > 1, "the big session must be chunked");
    let chunks: Vec<String> = writes
        .iter()
        .map(|write| {
            format!(
                "{}={}",
                write.name,
                encode_value(write.value.as_deref().unwrap_or_default())
            )
        })
        .collect();
    write(target, "https-chunked-session", chunks.join("; "));
    let mut gap = chunks.clone();
    gap.remove(1);
    write(target, "chunk-missing", gap.join("; "));
    write(
        target,
        "two-headers",
        format!("{}\n{}", chunks[0], chunks[1..].join("; ")),
    );
    write(
        target,
        "planted-names",
        format!(
            "__%48ost-authjs.csrf-token=planted; __host-authjs.csrf-token=planted; {} =planted; {}.01=x; {}.64=x; {}=\"quoted%7Cvalue\"",
            https.csrf_token.name,
            https.session_token.name,
            https.session_token.name,
            https.csrf_token.name
        ),
    );
    let junk: Vec<String> = (0..200).map(|i| format!("junk{i}=x")).collect();
    write(
        target,
        "past-the-pair-limit",
        format!("{}; {}={session}", junk.join("; "), http.session_token.name),
    );
    write(
        target,
        "next-auth-names",
        format!("next-auth.session-token={session}; next-auth.csrf-token={csrf}"),
    );
}

fn main() {
    let session = jwt_seeds();
    let (csrf_cookie, _token) = csrf_seeds();
    cookie_header_seeds(&session, &csrf_cookie);
    println!("seeds written under {}", seeds_dir("").display());
}
