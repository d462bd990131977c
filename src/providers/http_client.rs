//! The one HTTP client for provider calls (discovery, JWKS, token, userinfo): no redirects
//! followed, bounded time and size, and an adapter so the oauth2 crate uses it too.

use std::sync::OnceLock;
use std::time::Duration;

/// Largest provider response read (discovery documents and JWKS are a few KiB).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

fn client() -> Result<&'static reqwest::Client, HttpError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("authgate/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| HttpError::Client(error.clone()))
}

/// Sends `request` and reads at most 1 MiB of the answer.
pub async fn execute(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
    let request = reqwest::Request::try_from(request)
        .map_err(|error| HttpError::Request(error.to_string()))?;
    let mut response = client()?
        .execute(request)
        .await
        .map_err(|error| HttpError::Request(error.without_url().to_string()))?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| HttpError::Request(error.without_url().to_string()))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    builder
        .body(body)
        .map_err(|error| HttpError::Request(error.to_string()))
}

/// A GET with `Accept: application/json` (and a bearer token when given), parsed as JSON.
pub async fn get_json(
    url: &str,
    bearer: Option<&str>,
    extra_headers: &[(String, String)],
) -> Result<serde_json::Value, HttpError> {
    request_json(http::Method::GET, url, bearer, extra_headers).await
}

/// `get_json` with any method (a POST sends no body).
pub async fn request_json(
    method: http::Method,
    url: &str,
    bearer: Option<&str>,
    extra_headers: &[(String, String)],
) -> Result<serde_json::Value, HttpError> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in extra_headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Vec::new())
        .map_err(|error| HttpError::Request(error.to_string()))?;
    let response = execute(request).await?;
    // The query may carry the access token (`tokenParam`): never put it in a message.
    let shown = url.split(['?', '#']).next().unwrap_or_default();
    if !response.status().is_success() {
        return Err(HttpError::Request(format!(
            "{shown} answered {}",
            response.status()
        )));
    }
    serde_json::from_slice(response.body())
        .map_err(|error| HttpError::Request(format!("{shown} did not answer JSON: {error}")))
}
