//! The userinfo request of a provider, with the quirks presets describe as data:
//! `method: POST`, `headers`, `tokenParam` (the access token in the query instead of a
//! bearer header), extra `params`, placeholders (`{accessToken}`, `{clientId}`,
//! `{apiKey}`, `{tokens.<field>}`) in all of them and in the URL, and `include`d documents
//! fetched beside it (GitHub's `/user/emails`, only when the email is missing).

use serde_json::{Map, Value};

use super::OAuthError;
use super::discovery::Endpoints;
use super::http_client::request_json;
use super::oauth_client::TokenSet;
use crate::config::ProviderConfig;
use crate::config::values::{Endpoint, EndpointDetails, HttpMethod, Include};
use crate::text::percent_encoded;

/// The provider's userinfo document for `tokens`, with each `include` under its name.
pub async fn fetch_userinfo(
    config: &ProviderConfig,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Result<Map<String, Value>, OAuthError> {
    let url = endpoints
        .userinfo
        .as_deref()
        .ok_or_else(|| OAuthError::Configuration("no userinfo endpoint".into()))?;
    let details = match &config.userinfo {
        Some(Endpoint::Detailed(details)) => Some(details),
        _ => None,
    };
    // Only a URL the configuration wrote gets placeholders, and only a request to one
    // carries the API key: a discovery document must not decide where the key goes.
    let configured = config.userinfo.as_ref().and_then(Endpoint::url).is_some();
    let request = UserinfoRequest {
        details,
        values: Placeholders {
            config,
            tokens,
            api_key_allowed: configured,
        },
    };
    let params: Vec<(String, String)> = details
        .map(|d| {
            d.params
                .iter()
                .map(|(name, value)| Ok((name.clone(), request.values.fill(value, false)?)))
                .collect::<Result<_, OAuthError>>()
        })
        .transpose()?
        .unwrap_or_default();
    let method = match details.and_then(|d| d.method) {
        Some(HttpMethod::Post) => http::Method::POST,
        _ => http::Method::GET,
    };
    let mut profile = match request.get(url, configured, &params, method).await? {
        Value::Object(profile) => profile,
        _ => return Err(OAuthError::Provider("userinfo is not a JSON object".into())),
    };
    for (name, include) in details.map(|d| &d.include).into_iter().flatten() {
        let (wanted, optional) = match include {
            Include::Url(_) => (true, false),
            Include::Detailed(details) => (
                details
                    .if_missing
                    .as_ref()
                    .is_none_or(|field| profile.get(field).is_none_or(Value::is_null)),
                details.optional,
            ),
        };
        if !wanted {
            continue;
        }
        match request
            .get(include.url(), true, &[], http::Method::GET)
            .await
        {
            Ok(document) => {
                profile.insert(name.clone(), document);
            }
            Err(error) if optional => {
                tracing::warn!(provider = ?config.id, include = %name, %error, "an optional userinfo document could not be read; going on without it");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(profile)
}

/// The values userinfo placeholders stand for.
struct Placeholders<'a> {
    config: &'a ProviderConfig,
    tokens: &'a TokenSet,
    /// `{apiKey}` may be filled in: the userinfo URL is the configuration's own.
    api_key_allowed: bool,
}

impl Placeholders<'_> {
    /// `template` with every placeholder filled in; in a URL, each value percent-encoded
    /// so that it stays inside the path segment or query value it was put in, and never
    /// empty, `.` or `..` (which would name another resource). An unknown placeholder is
    /// left as written; a `{tokens.<field>}` the token response lacks is an error.
    /// (Values side by side cannot make a dot segment either: each would have to be `.`,
    /// or empty beside a `..` the configuration wrote itself.)
    fn fill(&self, template: &str, in_url: bool) -> Result<String, OAuthError> {
        let mut filled = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            filled.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                filled.push_str(&rest[start..]);
                return Ok(filled);
            };
            let name = &after[..end];
            let value = self.value(name)?;
            if in_url
                && value
                    .as_deref()
                    .is_some_and(|v| matches!(v, "" | "." | ".."))
            {
                return Err(OAuthError::Provider(format!(
                    "userinfo: `{{{name}}}` is empty or a dot segment"
                )));
            }
            match value {
                Some(value) if in_url => filled.push_str(&percent_encoded(&value)),
                Some(value) => filled.push_str(&value),
                None => filled.push_str(&rest[start..start + end + 2]),
            }
            rest = &after[end + 1..];
        }
        filled.push_str(rest);
        Ok(filled)
    }

    /// A placeholder's value; `None` for a name that is no placeholder.
    fn value(&self, name: &str) -> Result<Option<String>, OAuthError> {
        Ok(match name {
            "accessToken" => Some(self.tokens.access_token.clone()),
            "clientId" => Some(self.config.client_id.clone().unwrap_or_default()),
            "apiKey" if !self.api_key_allowed => {
                return Err(OAuthError::Configuration(
                    "`{apiKey}` is sent only to a userinfo URL the configuration gives, not to a discovered one".into(),
                ));
            }
            "apiKey" => Some(self.api_key().to_string()),
            _ => {
                let Some(field) = name.strip_prefix("tokens.") else {
                    return Ok(None);
                };
                match self.tokens.extra.get(field) {
                    Some(Value::String(text)) => Some(text.clone()),
                    Some(Value::Number(number)) => Some(number.to_string()),
                    _ => {
                        return Err(OAuthError::Provider(format!(
                            "userinfo: the token response has no `{field}`"
                        )));
                    }
                }
            }
        })
    }

    fn api_key(&self) -> &str {
        self.config
            .api_key
            .as_ref()
            .map(|key| key.expose())
            .unwrap_or_default()
    }

    /// `message` without the access token or the API key, raw or percent-encoded: a
    /// placeholder may have put them in a URL path that an error names.
    fn redact(&self, message: String) -> String {
        let mut message = message;
        for secret in [self.tokens.access_token.as_str(), self.api_key()] {
            if secret.is_empty() {
                continue;
            }
            let encoded = percent_encoded(secret);
            message = message
                .replace(&encoded, "[redacted]")
                .replace(secret, "[redacted]");
        }
        message
    }
}

/// What every request of one userinfo fetch shares.
struct UserinfoRequest<'a> {
    details: Option<&'a EndpointDetails>,
    values: Placeholders<'a>,
}

impl UserinfoRequest<'_> {
    /// One request; `fill_url` fills placeholders into `url` (a configured one).
    async fn get(
        &self,
        url: &str,
        fill_url: bool,
        query: &[(String, String)],
        method: http::Method,
    ) -> Result<Value, OAuthError> {
        let headers: Vec<(String, String)> = self
            .details
            .map(|d| {
                d.headers
                    .iter()
                    .map(|(name, value)| Ok((name.clone(), self.values.fill(value, false)?)))
                    .collect::<Result<_, OAuthError>>()
            })
            .transpose()?
            .unwrap_or_default();
        let url = if fill_url {
            self.values.fill(url, true)?
        } else {
            url.to_string()
        };
        let mut parsed = url::Url::parse(&url)
            .map_err(|error| OAuthError::Configuration(format!("userinfo URL: {error}")))?;
        parsed.query_pairs_mut().extend_pairs(query.iter());
        let access_token = &self.values.tokens.access_token;
        let bearer = match self.details.and_then(|d| d.token_param.as_deref()) {
            Some(name) => {
                parsed.query_pairs_mut().append_pair(name, access_token);
                None
            }
            None => Some(access_token.as_str()),
        };
        request_json(method, parsed.as_str(), bearer, &headers)
            .await
            .map_err(|error| OAuthError::Provider(self.values.redact(format!("userinfo: {error}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_encoded_in_urls() {
        let config: ProviderConfig = serde_json::from_value(serde_json::json!({
            "clientId": "client 1",
            "apiKey": "key/1",
        }))
        .unwrap();
        let tokens = TokenSet {
            access_token: "tok/en+1".into(),
            extra:
                serde_json::json!({"openid": "o1", "uid": 7, "dots": "..", "empty": "", "dot": "."})
                    .as_object()
                    .unwrap()
                    .clone(),
            ..TokenSet::default()
        };
        let values = Placeholders {
            config: &config,
            tokens: &tokens,
            api_key_allowed: true,
        };
        let cases = [
            (
                "https://api.example.com/tokens/{accessToken}",
                true,
                Some("https://api.example.com/tokens/tok%2Fen%2B1"),
            ),
            ("{apiKey}", false, Some("key/1")),
            ("Client {clientId}", false, Some("Client client 1")),
            (
                "https://x.example/users/{clientId}",
                true,
                Some("https://x.example/users/client%201"),
            ),
            ("{tokens.openid}-{tokens.uid}", false, Some("o1-7")),
            ("{unknown} and {", false, Some("{unknown} and {")),
            ("no placeholders", true, Some("no placeholders")),
            // A missing field, or one that would name another resource, is refused.
            ("https://x.example/users/{tokens.absent}", true, None),
            ("https://x.example/users/{tokens.dots}", true, None),
            ("https://x.example/users/{tokens.empty}", true, None),
            (
                "https://x.example/users/{tokens.dot}{tokens.dot}/x",
                true,
                None,
            ),
        ];
        for (template, in_url, expected) in cases {
            assert_eq!(
                values.fill(template, in_url).ok().as_deref(),
                expected,
                "{template}"
            );
        }
        let discovered = Placeholders {
            api_key_allowed: false,
            ..values
        };
        assert!(discovered.fill("{apiKey}", false).is_err());
        assert_eq!(
            discovered.fill("{clientId}", false).ok().as_deref(),
            Some("client 1")
        );
        assert_eq!(
            values.redact("userinfo: https://x/tokens/tok%2Fen%2B1 and tok/en+1 and key/1".into()),
            "userinfo: https://x/tokens/[redacted] and [redacted] and [redacted]"
        );
    }
}
