//! `Set-Cookie` header values, written from the cookie policy in one pass: the value
//! percent-encoded (so it cannot end early and add attributes), then the attributes in the
//! order the `cookie` crate writes them. A removal is an empty value that expired a year
//! ago. `Expires` is stated from the pipeline clock, like every time authgate states.

use std::fmt::Write as _;

use crate::actions::SetCookie;
use crate::clock::HttpDate;
use crate::config::model::SameSite;
use crate::session::cookie_header::push_encoded_value;

/// How far in the past a removal's `Expires` is.
const REMOVAL_AGE_SECONDS: i64 = 365 * 86_400;

/// The `Set-Cookie` value that writes (or, with no value, removes) `set` at `now_unix`.
pub fn header_value(set: &SetCookie, now_unix: u64) -> String {
    let spec = &set.spec;
    let value = set.value.as_deref();
    let mut text = String::with_capacity(spec.name.len() + value.map_or(0, str::len) + 128);
    text.push_str(&spec.name);
    text.push('=');
    if let Some(value) = value {
        push_encoded_value(&mut text, value);
    }
    if spec.http_only {
        text.push_str("; HttpOnly");
    }
    text.push_str(match spec.same_site {
        SameSite::Lax => "; SameSite=Lax",
        SameSite::Strict => "; SameSite=Strict",
        SameSite::None => "; SameSite=None",
    });
    if spec.secure {
        text.push_str("; Secure");
    }
    text.push_str("; Path=");
    text.push_str(&spec.path);
    if let Some(domain) = &spec.domain {
        text.push_str("; Domain=");
        text.push_str(domain);
    }
    let now = i64::try_from(now_unix).unwrap_or(i64::MAX);
    let (max_age, expires) = match (value, set.max_age) {
        (None, _) => (Some(0), now.checked_sub(REMOVAL_AGE_SECONDS)),
        (Some(_), Some(seconds)) => {
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            (Some(seconds), now.checked_add(seconds))
        }
        (Some(_), None) => (None, None),
    };
    // Writing into a String cannot fail.
    if let Some(seconds) = max_age {
        let _ = write!(text, "; Max-Age={seconds}");
    }
    if let Some(date) = expires.and_then(HttpDate::of_unix) {
        let _ = write!(text, "; Expires={date}");
    }
    text
}

#[cfg(test)]
#[path = "set_cookie_tests.rs"]
mod tests;
