//! Small value types shared by the configuration model: durations, secrets, script sources
//! and endpoints. Each one owns its serde form and its JSON Schema, so that the schema an
//! editor sees accepts exactly what serde accepts.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The regular expression a duration string must match; diagnostics recognise it.
pub const DURATION_PATTERN: &str = "^[0-9]+(s|m|h|d|w)?$";
/// A rate (`5/1h`) or `off`.
pub const RATE_PATTERN: &str = "^(off|[1-9][0-9]*/[0-9]+(s|m|h|d|w)?)$";

/// A length of time written as `30d`, `24h`, `15m`, `900s`, `2w` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    seconds: u64,
}

impl Duration {
    pub const fn from_seconds(seconds: u64) -> Self {
        Duration { seconds }
    }

    pub const fn from_days(days: u64) -> Self {
        Duration {
            seconds: days * 86_400,
        }
    }

    pub const fn seconds(self) -> u64 {
        self.seconds
    }

    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }

    /// Parses `30d`, `24h`, `15m`, `900s`, `2w` or `900`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let amount: u64 = digits
            .parse()
            .map_err(|_| format!("expected a duration such as `30d`, found `{text}`"))?;
        let factor = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(format!("expected a duration such as `30d`, found `{text}`")),
        };
        amount
            .checked_mul(factor)
            .map(Duration::from_seconds)
            .ok_or_else(|| format!("duration `{text}` is too large"))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.seconds;
        for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
            if seconds != 0 && seconds.is_multiple_of(size) {
                return write!(f, "{}{unit}", seconds / size);
            }
        }
        write!(f, "{seconds}s")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Seconds(seconds) => Ok(Duration::from_seconds(seconds)),
            Raw::Text(text) => Duration::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: `30d`, `24h`, `15m`, `900s`, `2w`, or an integer number of seconds.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": DURATION_PATTERN }
            ]
        })
    }
}

/// A rate limit: at most `max` attempts per `per`, refilled evenly (`5/1h` allows a burst
/// of 5, then one more every 12 minutes), or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// 0 when the limit is off.
    max: u32,
    per: Duration,
}

impl Rate {
    pub const OFF: Rate = Rate {
        max: 0,
        per: Duration::from_seconds(0),
    };

    pub const fn new(max: u32, per: Duration) -> Rate {
        Rate { max, per }
    }

    /// `(max, per)`, or `None` when the limit is off.
    pub fn limit(self) -> Option<(u32, Duration)> {
        (self.max > 0 && self.per.seconds() > 0).then_some((self.max, self.per))
    }

    /// Parses `5/1h`, `100/15m` or `off`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let text = text.trim();
        if text == "off" {
            return Ok(Rate::OFF);
        }
        let expected = || format!("expected a rate such as `5/1h` or `off`, found `{text}`");
        let (max, per) = text.split_once('/').ok_or_else(expected)?;
        let max: u32 = max.trim().parse().map_err(|_| expected())?;
        let per = Duration::parse(per)?;
        if max == 0 || per.seconds() == 0 {
            return Err(format!(
                "a rate needs at least 1 per a non-zero time; use `off` to turn it off, found `{text}`"
            ));
        }
        Ok(Rate { max, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit() {
            Some((max, per)) => write!(f, "{max}/{per}"),
            None => f.write_str("off"),
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rate::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "At most N attempts per duration, refilled evenly (`5/1h`, `100/15m`), or `off`.",
            "type": "string",
            "pattern": RATE_PATTERN
        })
    }
}

/// One secret, or a list of secrets for rotation: the first is used to create, every
/// one is accepted when checking.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Secret {
    One(String),
    /// Newest first.
    Rotation(Vec<String>),
}

impl Secret {
    /// All secrets, newest first.
    pub fn all(&self) -> Vec<&str> {
        match self {
            Secret::One(secret) => vec![secret.as_str()],
            Secret::Rotation(secrets) => secrets.iter().map(String::as_str).collect(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} redacted>)", self.all().len())
    }
}

/// A string that is a secret (a client secret, a database URL with its password): it
/// never prints through `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl JsonSchema for SecretString {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "SecretString".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// A Rhai script: inline text, or `{ file: path }` relative to the YAML file that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ScriptSource {
    Inline(String),
    File(ScriptFile),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptFile {
    /// Path of a `.rhai` file, relative to the YAML file that names it.
    #[schemars(example = "scripts/jwt.rhai", example = "scripts/profile.rhai")]
    pub file: PathBuf,
}

/// An OAuth endpoint: a URL, or a URL with extra query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Endpoint {
    Url(String),
    Detailed(EndpointDetails),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointDetails {
    /// The endpoint's URL; when left out, the discovery document's is used with these options.
    #[schemars(
        example = "https://login.example.com/oauth/authorize",
        example = "https://login.example.com/api/me"
    )]
    pub url: Option<String>,
    /// Extra parameters sent to the endpoint. In authorization parameters (`scope`
    /// included) `{clientId}` and `{issuer}` are replaced by the client id and the issuer
    /// (United Effects' `resource`, Azure AD B2C's scope); in token parameters `{clientId}` and `{clientSecret}`
    /// (TikTok's `client_key`, WeChat's `appid` and `secret`); in userinfo parameters the
    /// userinfo placeholders (see `headers`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
    /// userinfo: the HTTP method (default GET; Dropbox wants POST). token: `GET` sends the
    /// parameters in the query instead of a POST form (WeChat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// userinfo only: extra request headers. Here, in the URL, in `params` and in
    /// `include` URLs, `{accessToken}`, `{clientId}`, `{apiKey}` and `{tokens.<field>}` (a
    /// field of the token response) are filled in; in a URL they are percent-encoded.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"X-API-Key": "{apiKey}"}))]
    pub headers: std::collections::BTreeMap<String, String>,
    /// userinfo only: send the access token as this query parameter instead of an
    /// `Authorization: Bearer` header (Foursquare's `oauth_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"oauth_token", example = &"access_token")]
    pub token_param: Option<String>,
    /// userinfo only: more JSON documents fetched with the same token, added to the
    /// profile under their names (GitHub's `emails: https://api.github.com/user/emails`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub include: std::collections::BTreeMap<String, Include>,
}

/// A document fetched beside userinfo: a URL, or a URL with conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Include {
    Url(String),
    Detailed(IncludeDetails),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncludeDetails {
    /// The document's URL.
    #[schemars(example = "https://api.github.com/user/emails")]
    pub url: String,
    /// Fetch it only when the userinfo document's field of this name is missing or null
    /// (GitHub: `email`, null when the address is private).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"email")]
    pub if_missing: Option<String>,
    /// A failed fetch leaves the document out instead of failing the sign-in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

impl Include {
    pub fn url(&self) -> &str {
        match self {
            Include::Url(url) => url,
            Include::Detailed(details) => &details.url,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
}

impl Endpoint {
    pub fn url(&self) -> Option<&str> {
        match self {
            Endpoint::Url(url) => Some(url),
            Endpoint::Detailed(details) => details.url.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_every_documented_unit() {
        let cases = [
            ("30d", 2_592_000),
            ("24h", 86_400),
            ("15m", 900),
            ("900s", 900),
            ("900", 900),
            ("2w", 1_209_600),
        ];
        for (text, seconds) in cases {
            assert_eq!(Duration::parse(text), Ok(Duration::from_seconds(seconds)));
        }
    }

    #[test]
    fn durations_reject_unknown_units_and_overflow() {
        assert!(Duration::parse("3x").is_err());
        assert!(Duration::parse("d").is_err());
        assert!(Duration::parse("99999999999999999999d").is_err());
    }

    #[test]
    fn durations_display_in_the_largest_whole_unit() {
        assert_eq!(Duration::from_days(30).to_string(), "30d");
        assert_eq!(Duration::from_seconds(90).to_string(), "90s");
        assert_eq!(Duration::from_seconds(0).to_string(), "0s");
    }

    #[test]
    fn secrets_never_print_their_value() {
        let secret = Secret::One("hunter2-hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
        let secret = SecretString::new("postgres://u:hunter2@db");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "postgres://u:hunter2@db");
    }
}
