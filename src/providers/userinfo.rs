//! The userinfo request of an OAuth 2.0 provider, with the quirks presets describe as data:
//! `method: POST`, `headers` (with `{clientId}` filled in), `tokenParam` (the access token
//! in the query instead of a bearer header), extra `params`, and `include`d documents
//! fetched beside it (GitHub's `/user/emails`).

use serde_json::{Map, Value};

use super::OAuthError;
use super::discovery::Endpoints;
use super::http_client::request_json;
use crate::config::ProviderConfig;
use crate::config::values::{Endpoint, EndpointDetails, HttpMethod};

/// The provider's userinfo document for `access_token`, with each `include` under its name.
pub async fn fetch_userinfo(
    config: &ProviderConfig,
    endpoints: &Endpoints,
    access_token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let url = endpoints
        .userinfo
        .as_deref()
        .ok_or_else(|| OAuthError::Configuration("no userinfo endpoint".into()))?;
    let details = match &config.userinfo {
        Some(Endpoint::Detailed(details)) => Some(details),
        _ => None,
    };
    let request = UserinfoRequest {
        details,
        client_id: config.client_id.as_deref().unwrap_or_default(),
        access_token,
    };
    let params: Vec<(String, String)> = details
        .map(|d| d.params.clone().into_iter().collect())
        .unwrap_or_default();
    let method = match details.and_then(|d| d.method) {
        Some(HttpMethod::Post) => http::Method::POST,
        _ => http::Method::GET,
    };
    let mut profile = match request.get(url, &params, method).await? {
        Value::Object(profile) => profile,
        _ => return Err(OAuthError::Provider("userinfo is not a JSON object".into())),
    };
    for (name, include) in details.map(|d| d.include.clone()).unwrap_or_default() {
        let document = request.get(&include, &[], http::Method::GET).await?;
        profile.insert(name, document);
    }
    Ok(profile)
}

/// What every request of one userinfo fetch shares.
struct UserinfoRequest<'a> {
    details: Option<&'a EndpointDetails>,
    client_id: &'a str,
    access_token: &'a str,
}

impl UserinfoRequest<'_> {
    async fn get(
        &self,
        url: &str,
        query: &[(String, String)],
        method: http::Method,
    ) -> Result<Value, OAuthError> {
        let headers: Vec<(String, String)> = self
            .details
            .map(|d| {
                d.headers
                    .iter()
                    .map(|(name, value)| {
                        (name.clone(), value.replace("{clientId}", self.client_id))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut parsed = url::Url::parse(url)
            .map_err(|error| OAuthError::Configuration(format!("userinfo URL: {error}")))?;
        parsed.query_pairs_mut().extend_pairs(query.iter());
        let bearer = match self.details.and_then(|d| d.token_param.as_deref()) {
            Some(name) => {
                parsed
                    .query_pairs_mut()
                    .append_pair(name, self.access_token);
                None
            }
            None => Some(self.access_token),
        };
        request_json(method, parsed.as_str(), bearer, &headers)
            .await
            .map_err(|error| OAuthError::Provider(format!("userinfo: {error}")))
    }
}
