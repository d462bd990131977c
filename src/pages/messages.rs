//! The wording of the built-in pages: one text per key, each replaceable through
//! `pages.messages`, so a site can translate or reword the pages without templates of its
//! own. Texts are plain text (templates escape them); `{provider}`, `{domain}` and `{host}`
//! are filled in where a key says so.

use std::collections::BTreeMap;

use crate::error::ErrorCode;

/// Every key, with its built-in text.
pub const DEFAULT_MESSAGES: &[(&str, &str)] = &[
    ("lang", "en"),
    ("signin.title", "Sign in"),
    ("signin.withProvider", "Sign in with {provider}"),
    ("signin.or", "or"),
    ("signin.email.label", "Email address"),
    ("signin.email.placeholder", "you@example.com"),
    (
        "signin.error.default",
        "We could not sign you in. Please try again.",
    ),
    (
        "signin.error.OAuthSignin",
        "Signing in with that account did not work. Try again, or use another account.",
    ),
    (
        "signin.error.OAuthCallback",
        "Signing in with that account did not work. Try again, or use another account.",
    ),
    (
        "signin.error.OAuthAccountNotLinked",
        "This email address already belongs to an account with another sign-in method. Sign in the way you did before; you can link this one afterwards.",
    ),
    (
        "signin.error.EmailSignin",
        "We could not send the sign-in email. Check the address and try again.",
    ),
    (
        "signin.error.CredentialsSignin",
        "Those details did not match. Check them and try again.",
    ),
    ("signin.error.SessionRequired", "Sign in to see this page."),
    (
        "signin.error.AccessDenied",
        "This account is not allowed to sign in here.",
    ),
    (
        "signin.error.Verification",
        "That sign-in link has expired or was already used. Ask for a new one.",
    ),
    (
        "signin.error.MissingCSRF",
        "The form had expired. Please try again.",
    ),
    (
        "signin.error.RateLimited",
        "Too many attempts. Wait a little, then try again.",
    ),
    (
        "signin.error.Configuration",
        "Signing in is not possible right now because of a problem on the server.",
    ),
    ("signout.title", "Sign out"),
    ("signout.question", "Are you sure you want to sign out?"),
    ("signout.submit", "Sign out"),
    ("signout.cancel", "Stay signed in"),
    ("verifyRequest.title", "Check your email"),
    (
        "verifyRequest.sentTo",
        "We sent a sign-in link to your address at {domain}.",
    ),
    (
        "verifyRequest.sent",
        "We sent a sign-in link to your email address.",
    ),
    (
        "verifyRequest.hint",
        "Open the link to finish signing in. It works once, and only for a limited time.",
    ),
    ("verifyRequest.back", "Back to {host}"),
    ("error.title", "Unable to sign in"),
    (
        "error.default",
        "Something went wrong while signing you in.",
    ),
    (
        "error.Configuration",
        "There is a problem with the server configuration. If this goes on, tell the site's administrators.",
    ),
    (
        "error.AccessDenied",
        "You do not have permission to sign in.",
    ),
    (
        "error.Verification",
        "That sign-in link is no longer valid. It may have been used already, or it may have expired.",
    ),
    (
        "error.MissingCSRF",
        "The request could not be verified. Go back and try again.",
    ),
    (
        "error.RateLimited",
        "Too many attempts. Wait a little, then try again.",
    ),
    ("error.signIn", "Sign in"),
    ("error.home", "Go to {host}"),
];

/// Sign-in error codes Auth.js pages know that authgate folds into one of its own.
const SIGN_IN_ALIASES: &[(&str, &str)] = &[
    ("Signin", "OAuthSignin"),
    ("OAuthCallbackError", "OAuthCallback"),
    ("OAuthCreateAccount", "OAuthCallback"),
    ("EmailCreateAccount", "OAuthCallback"),
    ("Callback", "OAuthCallback"),
];

/// The texts of one configuration.
#[derive(Debug, Clone)]
pub struct Messages(BTreeMap<&'static str, String>);

impl Messages {
    /// The built-in texts with `overrides` applied. Unknown keys are left out (the
    /// semantic check reports them).
    pub fn new(overrides: &BTreeMap<String, String>) -> Messages {
        Messages(
            DEFAULT_MESSAGES
                .iter()
                .map(|(key, text)| {
                    let text = overrides.get(*key).map_or(*text, String::as_str);
                    (*key, text.to_string())
                })
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }

    pub fn as_map(&self) -> &BTreeMap<&'static str, String> {
        &self.0
    }

    /// The code and text for a sign-in page `?error=`: known codes by name (any case, as
    /// Auth.js matches them), anything else `default`. The query never supplies words.
    pub fn sign_in_error(&self, code: &str) -> (&'static str, &str) {
        let known = known_code("signin.error.", code, SIGN_IN_ALIASES);
        (known, self.get(&format!("signin.error.{known}")))
    }

    /// The code and text for an error page `?error=`.
    pub fn error_page(&self, code: &str) -> (&'static str, &str) {
        let known = known_code("error.", code, &[]);
        (known, self.get(&format!("error.{known}")))
    }
}

/// The code `code` names among the keys under `prefix` (any case, aliases folded into the
/// code they share a text with), or `default`.
fn known_code(prefix: &str, code: &str, aliases: &[(&str, &'static str)]) -> &'static str {
    let code = aliases
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(code))
        .map_or(code, |(_, canonical)| canonical);
    DEFAULT_MESSAGES
        .iter()
        .filter_map(|(key, _)| key.strip_prefix(prefix))
        .find(|name| *name != "default" && name.eq_ignore_ascii_case(code))
        .unwrap_or("default")
}

/// Whether `key` names a message.
pub fn is_known_key(key: &str) -> bool {
    DEFAULT_MESSAGES.iter().any(|(known, _)| *known == key)
}

/// The HTTP status of the error page for `code`, as Auth.js answers it.
pub fn error_page_status(code: &str) -> u16 {
    let known = [
        ErrorCode::Configuration,
        ErrorCode::AccessDenied,
        ErrorCode::Verification,
        ErrorCode::MissingCSRF,
        ErrorCode::RateLimited,
    ]
    .into_iter()
    .find(|known| known.as_str().eq_ignore_ascii_case(code));
    match known {
        Some(ErrorCode::Configuration) => 500,
        Some(ErrorCode::AccessDenied | ErrorCode::Verification) => 403,
        Some(ErrorCode::RateLimited) => 429,
        _ => 400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_pick_their_text_in_any_case_and_unknown_codes_the_default() {
        let messages = Messages::new(&BTreeMap::new());
        let cases = [
            ("CredentialsSignin", "signin.error.CredentialsSignin"),
            ("credentialssignin", "signin.error.CredentialsSignin"),
            ("OAuthCallbackError", "signin.error.OAuthCallback"),
            ("Callback", "signin.error.OAuthCallback"),
            ("<script>", "signin.error.default"),
            ("default", "signin.error.default"),
            ("", "signin.error.default"),
        ];
        for (code, key) in cases {
            let (known, text) = messages.sign_in_error(code);
            assert_eq!(text, messages.get(key), "{code}");
            assert_eq!(format!("signin.error.{known}"), key, "{code}");
        }
        assert_eq!(
            messages.error_page("verification"),
            ("Verification", messages.get("error.Verification"))
        );
        assert_eq!(
            messages.error_page("Nope"),
            ("default", messages.get("error.default"))
        );
    }

    #[test]
    fn overrides_replace_only_their_key() {
        let overrides = BTreeMap::from([
            ("signin.title".to_string(), "Anmelden".to_string()),
            ("no.such.key".to_string(), "ignored".to_string()),
        ]);
        let messages = Messages::new(&overrides);
        assert_eq!(messages.get("signin.title"), "Anmelden");
        assert_eq!(messages.get("signout.title"), "Sign out");
        assert_eq!(messages.get("no.such.key"), "");
    }

    #[test]
    fn error_pages_answer_auth_js_statuses() {
        let cases = [
            ("Configuration", 500),
            ("AccessDenied", 403),
            ("Verification", 403),
            ("RateLimited", 429),
            ("MissingCSRF", 400),
            ("Default", 400),
        ];
        for (code, status) in cases {
            assert_eq!(error_page_status(code), status, "{code}");
        }
    }

    #[test]
    fn every_key_is_unique() {
        let mut keys: Vec<&str> = DEFAULT_MESSAGES.iter().map(|(key, _)| *key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), DEFAULT_MESSAGES.len());
    }
}
