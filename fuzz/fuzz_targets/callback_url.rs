//! The callbackUrl rule (`actions::redirect::resolve_callback_url`) on URLs an attacker
//! puts in `callbackUrl`.
//!
//! Input: the candidate callbackUrl (bytes read as UTF-8, lossily).
//!
//! It runs against two real pipelines (one without a `redirect` callback, one whose
//! callback also allows `https://partner.example.org/...`), each for the configured origin
//! and two origins a trusted proxy could give.
//!
//! Property: the result has no control character or whitespace, and is one of
//! - the base URL;
//! - a URL that a URL parser reads on exactly the origin; when it is a relative candidate
//!   put after the origin, that candidate starts with a single `/` (not `//`, no `\`);
//! - with the callback only, an `https://partner.example.org` URL, or, for a candidate
//!   the callback echoes back (`echo:<url>`), any http(s) URL.

#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use authgate::actions::RequestOrigin;
use authgate::actions::redirect::resolve_callback_url;
use authgate::config::ConfigSource;
use authgate::pipeline::{Pipeline, build_pipeline};
use authgate_fuzz::SECRETS;
use libfuzzer_sys::fuzz_target;
use url::Url;

const PARTNER_ORIGIN: &str = "https://partner.example.org";

/// A redirect callback in the style of Auth.js's docs: a partner site, a relative
/// landing page for `partner:` links, and the base URL for everything else; plus a careless
/// branch that returns whatever follows `echo:`, so the checks on a callback's answer are
/// fuzzed too.
const REDIRECT_CALLBACK: &str = r#"
if url.starts_with("https://partner.example.org/") {
  url
} else if url.starts_with("partner:") {
  "/from-partner"
} else if url.starts_with("echo:") {
  url.sub_string(5)
} else {
  baseUrl
}"#;

fn config_text(redirect_callback: Option<&str>) -> String {
    let mut text = format!(
        "url: https://app.example.com/portal\n\
         secret: {}\n\
         providers:\n  \
           - id: credentials\n    \
             type: credentials\n    \
             credentials:\n      \
               username: {{ label: Username }}\n    \
             authorize: \"()\"\n",
        SECRETS[0]
    );
    if let Some(script) = redirect_callback {
        text.push_str("callbacks:\n  redirect: |");
        for line in script.lines() {
            text.push_str("\n    ");
            text.push_str(line);
        }
        text.push('\n');
    }
    text
}

fn build(redirect_callback: Option<&str>, directory: &std::path::Path) -> Pipeline {
    let path = directory.join(if redirect_callback.is_some() {
        "with-callback.yaml"
    } else {
        "without-callback.yaml"
    });
    std::fs::write(&path, config_text(redirect_callback)).expect("cannot write the config");
    let no_variables: HashMap<String, String> = HashMap::new();
    build_pipeline(&ConfigSource::new(&path), &no_variables, 1)
        .unwrap_or_else(|diagnostics| panic!("the fuzz config does not load:\n{diagnostics}"))
}

/// (pipeline without a callback, pipeline with one), built once per process.
fn pipelines() -> &'static (Pipeline, Pipeline) {
    static PIPELINES: OnceLock<(Pipeline, Pipeline)> = OnceLock::new();
    PIPELINES.get_or_init(|| {
        let directory =
            std::env::temp_dir().join(format!("authgate-fuzz-callback-url-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("cannot create the config directory");
        let built = (
            build(None, &directory),
            build(Some(REDIRECT_CALLBACK), &directory),
        );
        let _ = std::fs::remove_dir_all(&directory);
        built
    })
}

fn origins() -> [RequestOrigin; 3] {
    let origin = |origin: &str, base_url: &str| RequestOrigin {
        origin: origin.to_string(),
        base_url: base_url.to_string(),
        auth_url: format!("{base_url}/api/auth"),
        https: origin.starts_with("https:"),
    };
    [
        origin("https://app.example.com", "https://app.example.com/portal"),
        origin("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        origin("http://[::1]:8080", "http://[::1]:8080"),
    ]
}

fn http_origin_of(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// Which foreign URLs the redirect callback lets through for one candidate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// No callback: only our own origin.
    OwnOrigin,
    /// The partner origin too.
    Partner,
    /// The callback echoed the candidate: any http(s) URL.
    AnyHttpUrl,
}

fn check(result: &str, origin: &RequestOrigin, allowed: Allowed, candidate: &str) {
    assert!(
        !result.chars().any(|c| c.is_control() || c.is_whitespace()),
        "{candidate:?} gave {result:?}, with a control character or whitespace"
    );
    if result == origin.base_url {
        return;
    }
    // A relative candidate followed as is: it must be a plain path, or a browser could
    // read `//evil.com` or `/\evil.com` as a host of its own.
    if Url::parse(candidate).is_err()
        && let Some(path) = result.strip_prefix(origin.origin.as_str())
        && path == candidate
    {
        assert!(
            path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'),
            "{candidate:?} was followed as a relative path: {result:?}"
        );
    }
    let result_origin = http_origin_of(result);
    if result_origin.as_deref() == Some(origin.origin.as_str()) {
        return;
    }
    let allowed_origin = match allowed {
        Allowed::OwnOrigin => false,
        Allowed::Partner => result_origin.as_deref() == Some(PARTNER_ORIGIN),
        Allowed::AnyHttpUrl => result_origin.is_some(),
    };
    assert!(
        allowed_origin,
        "{candidate:?} gave {result:?}, off the origin {}",
        origin.origin
    );
}

fuzz_target!(|data: &[u8]| {
    let candidate = String::from_utf8_lossy(data);
    let (without_callback, with_callback) = pipelines();
    let with_callback_allows = if candidate.starts_with("echo:") {
        Allowed::AnyHttpUrl
    } else {
        Allowed::Partner
    };
    for origin in origins() {
        let result = resolve_callback_url(without_callback, &origin, Some(candidate.as_ref()));
        check(&result, &origin, Allowed::OwnOrigin, &candidate);
        let result = resolve_callback_url(with_callback, &origin, Some(candidate.as_ref()));
        check(&result, &origin, with_callback_allows, &candidate);
    }
});
