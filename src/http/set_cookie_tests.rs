use actix_web::cookie::time::{Duration as CookieDuration, OffsetDateTime};
use actix_web::cookie::{Cookie, SameSite as CookieSameSite};

use super::*;
use crate::session::cookie_header::encode_value;
use crate::session::cookies::CookieSpec;

const NOW: u64 = 1_764_603_517;

fn spec(same_site: SameSite, secure: bool, http_only: bool, domain: Option<&str>) -> CookieSpec {
    CookieSpec {
        name: "__Secure-authjs.session-token".into(),
        domain: domain.map(str::to_string),
        path: "/app".into(),
        same_site,
        secure,
        http_only,
    }
}

/// What the `cookie` crate writes for the same cookie: the writer authgate used before.
fn by_the_cookie_crate(set: &SetCookie) -> String {
    let spec = &set.spec;
    let mut cookie = Cookie::build(
        spec.name.clone(),
        encode_value(set.value.as_deref().unwrap_or_default()),
    )
    .path(spec.path.clone())
    .http_only(spec.http_only)
    .secure(spec.secure)
    .same_site(match spec.same_site {
        SameSite::Lax => CookieSameSite::Lax,
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::None => CookieSameSite::None,
    })
    .finish();
    if let Some(domain) = &spec.domain {
        cookie.set_domain(domain.clone());
    }
    let now = NOW as i64;
    let expires_in = match (&set.value, set.max_age) {
        (None, _) => Some(-365 * 86_400),
        (Some(_), Some(seconds)) => Some(i64::try_from(seconds).unwrap_or(i64::MAX)),
        (Some(_), None) => None,
    };
    if let Some(seconds) = expires_in {
        cookie.set_max_age(CookieDuration::seconds(seconds.max(0)));
        if let Some(at) = now
            .checked_add(seconds)
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
        {
            cookie.set_expires(at);
        }
    }
    cookie.to_string()
}

#[test]
fn set_cookie_values_are_written_as_the_cookie_crate_wrote_them() {
    let specs = [
        spec(SameSite::Lax, true, true, None),
        spec(SameSite::Strict, false, true, Some("example.com")),
        spec(SameSite::None, true, false, Some(".example.com")),
        spec(SameSite::Lax, false, false, None),
    ];
    let writes = [
        (
            Some("eyJhbGciOiJkaXIifQ..aXY.Y2lwaGVy.dGFn"),
            Some(2_592_000),
        ),
        (Some("token|hash"), Some(0)),
        (Some("https://app.example/a b;c=d"), None),
        (Some("héllo"), Some(60)),
        // Past the year 9999: `Max-Age` without `Expires`.
        (Some("v"), Some(u64::MAX)),
        (None, Some(60)),
        (None, None),
    ];
    for spec in &specs {
        for (value, max_age) in writes {
            let set = SetCookie {
                spec: spec.clone(),
                value: value.map(str::to_string),
                max_age,
            };
            assert_eq!(
                header_value(&set, NOW),
                by_the_cookie_crate(&set),
                "{spec:?} {value:?} {max_age:?}"
            );
        }
    }
}

#[test]
fn a_value_cannot_end_early_and_add_attributes() {
    let set = SetCookie {
        spec: spec(SameSite::Lax, true, true, None),
        value: Some("x; Domain=evil.example; Path=/\r\nSet-Cookie: y=z".into()),
        max_age: None,
    };
    let written = header_value(&set, NOW);
    let (value, attributes) = written
        .split_once("; ")
        .expect("attributes follow the value");
    assert!(!value.contains([';', ' ', '\r', '\n']), "{value}");
    assert_eq!(attributes, "HttpOnly; SameSite=Lax; Secure; Path=/app");
}

#[test]
fn a_removal_expired_a_year_before_the_pipeline_clock() {
    let set = SetCookie {
        spec: spec(SameSite::Lax, true, true, None),
        value: None,
        max_age: Some(60),
    };
    assert!(
        header_value(&set, NOW).ends_with("=; HttpOnly; SameSite=Lax; Secure; Path=/app; Max-Age=0; Expires=Sun, 01 Dec 2024 15:38:37 GMT"),
        "{}",
        header_value(&set, NOW)
    );
}
