//! Routes `{basePath}/<action>[/<provider>]` to its handler. The base path is read from the
//! request's pipeline snapshot, so a reload that changes it takes effect at once.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth_request::{auth_request, http_response};
use super::{client_script, cors, providers, responses};
use crate::actions::{self, AuthRequest, AuthResponse, SetCookie};
use crate::config::ProviderKind;
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::{Pipeline, Provider};
use crate::reload::LiveConfig;
use crate::telemetry::audit;

/// The Auth.js action named by `path`, if it lies under `base_path`.
fn action_of<'a>(path: &'a str, base_path: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base_path)?;
    let rest = rest.strip_prefix('/')?;
    Some(rest.trim_end_matches('/'))
}

fn with_cookie(mut response: AuthResponse, cookie: Option<SetCookie>) -> AuthResponse {
    response.cookies.extend(cookie);
    response
}

/// Every request outside the fixed routes: CORS around the action.
pub async fn dispatch(
    request: HttpRequest,
    body: web::Bytes,
    live: web::Data<LiveConfig>,
) -> HttpResponse {
    let pipeline = live.snapshot();
    let under_base_path = action_of(request.path(), &pipeline.base_path).is_some();
    let origin = under_base_path
        .then(|| cors::allowed_origin(&request, &pipeline))
        .flatten();
    if let (Some(origin), &Method::OPTIONS) = (origin.clone(), request.method()) {
        return cors::preflight(origin, &pipeline);
    }
    let mut response = dispatch_action(&request, body, &pipeline).await;
    if let Some(origin) = origin {
        cors::decorate(&mut response, origin, &pipeline);
    } else if under_base_path && !pipeline.config.cors.allowed_origins.is_empty() {
        // Caches must not give one origin's answer to another.
        cors::vary(&mut response);
    }
    response
}

async fn dispatch_action(
    request: &HttpRequest,
    body: web::Bytes,
    pipeline: &Arc<Pipeline>,
) -> HttpResponse {
    let pipeline = pipeline.clone();
    let request = request.clone();
    let Some(action) = action_of(request.path(), &pipeline.base_path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Not Found");
    };
    let method = request.method().clone();
    if method != Method::GET && method != Method::POST {
        return responses::method_not_allowed();
    }
    if (method.as_str(), action) == ("GET", "providers") {
        return providers::get(&request, &pipeline);
    }
    if method == Method::GET
        && let Some(response) = client_script::serve(action, &request)
    {
        return response;
    }
    let auth = match auth_request(&request, &body, &pipeline) {
        Ok(auth) => auth,
        Err(error) => return error.response(),
    };
    // Account and session management: `unlink/<id>` names an account's provider, which
    // need not be configured any more.
    let managed = match (method.as_str(), action) {
        ("GET", "forward-auth") => {
            let original =
                super::original_request::original_request(&request, &pipeline.trusted_proxies);
            Some(actions::forward_auth::decide(&auth, &pipeline, original).await)
        }
        ("GET", "token") => Some(actions::access_tokens::issue(&auth, &pipeline).await),
        ("POST", "introspect") => Some(actions::introspection::introspect(&auth, &pipeline).await),
        ("GET", "accounts") => Some(actions::linked_accounts::list(&auth, &pipeline).await),
        ("GET", "sessions") => Some(actions::user_sessions::list(&auth, &pipeline).await),
        ("POST", "sessions/revoke") => Some(actions::user_sessions::revoke(&auth, &pipeline).await),
        ("POST", _) => match action.strip_prefix("unlink/") {
            Some(provider) if !provider.is_empty() && !provider.contains('/') => {
                Some(actions::linked_accounts::unlink(&auth, &pipeline, provider).await)
            }
            _ => None,
        },
        _ => None,
    };
    if let Some(response) = managed {
        return answer(&auth, response, &pipeline);
    }
    let (name, provider_id) = match action.split_once('/') {
        Some((name, provider)) => (name, Some(provider)),
        None => (action, None),
    };
    // `/session/x` is not `/session`, and an unknown provider is not an action.
    let provider = match provider_id {
        None => None,
        Some(id) => match pipeline.provider(id) {
            Some(provider) => Some(provider),
            None => return responses::unknown_action(method.as_str()),
        },
    };
    // Actions run here, on the async worker: their store and provider calls hold no
    // thread, and they send their scripts to the blocking pool themselves.
    let response = match (method.as_str(), name, provider) {
        ("GET", "csrf", None) => actions::csrf::get(&auth, &pipeline),
        ("GET", "session", None) => actions::session::handle(&auth, &pipeline, None).await,
        ("POST", "session", None) => actions::session::update(&auth, &pipeline).await,
        ("GET", "signin", None) => {
            let (token, cookie) = actions::csrf::csrf_token(&auth, &pipeline);
            with_cookie(actions::pages::sign_in(&auth, &pipeline, &token), cookie)
        }
        (method, "signin" | "callback", Some(provider)) => {
            match provider_action(&auth, &pipeline, method, name, provider).await {
                Some(response) => response,
                None => return responses::unknown_action(method),
            }
        }
        ("GET", "signout", None) => {
            let (token, cookie) = actions::csrf::csrf_token(&auth, &pipeline);
            with_cookie(actions::pages::sign_out(&auth, &pipeline, &token), cookie)
        }
        ("POST", "signout", None) => actions::signout::sign_out(&auth, &pipeline).await,
        ("GET", "error", None) => actions::pages::error(&auth, &pipeline),
        ("GET", "verify-request", None) => actions::pages::verify_request(&auth, &pipeline),
        ("GET", "jwks", None) => jwks(&pipeline),
        (method, _, _) => return responses::unknown_action(method),
    };
    answer(&auth, response, &pipeline)
}

/// Writes the answer's audit records, with the request's id and address, and answers.
fn answer(auth: &AuthRequest, response: AuthResponse, pipeline: &Arc<Pipeline>) -> HttpResponse {
    if !response.audit.is_empty() {
        let context = auth.audit_context();
        for record in &response.audit {
            audit::record(record, &context);
        }
    }
    http_response(response, pipeline)
}

/// `signin/<id>` and `callback/<id>`, by the provider's kind: every kind is handled here,
/// so a new kind does not compile until it says what its routes do. `None` for a route the
/// kind does not have.
async fn provider_action(
    auth: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    method: &str,
    name: &str,
    provider: &Provider,
) -> Option<AuthResponse> {
    let response = match (provider.kind, method, name) {
        (ProviderKind::Credentials, "POST", "signin") => {
            if auth.csrf_is_valid(pipeline) {
                // Credentials are posted to /callback; /signin shows the form.
                AuthResponse::redirect(auth, actions::pages::sign_in_page_url(auth, pipeline))
            } else {
                actions::failure::redirect(
                    auth,
                    pipeline,
                    AuthError::new(
                        ErrorCode::MissingCSRF,
                        "credentials sign-in without a CSRF token",
                    ),
                )
            }
        }
        (ProviderKind::Credentials, "POST", "callback") => {
            actions::credentials::callback(auth, pipeline, provider).await
        }
        (ProviderKind::Oauth | ProviderKind::Oidc, "POST", "signin") => {
            actions::oauth::sign_in(auth, pipeline, provider).await
        }
        (ProviderKind::Oauth | ProviderKind::Oidc, _, "callback") => {
            actions::oauth::callback(auth, pipeline, provider).await
        }
        (ProviderKind::Email, "POST", "signin") => {
            actions::email::sign_in(auth, pipeline, provider).await
        }
        (ProviderKind::Email, "GET", "callback") => {
            actions::email::callback(auth, pipeline, provider).await
        }
        (
            ProviderKind::Credentials
            | ProviderKind::Oauth
            | ProviderKind::Oidc
            | ProviderKind::Email,
            _,
            _,
        ) => {
            return None;
        }
    };
    Some(actions::sign_in::observed(response, provider))
}

/// The public session-token keys (empty for symmetric keys).
pub fn jwks(pipeline: &Pipeline) -> AuthResponse {
    let mut response = AuthResponse::json(200, pipeline.session_keys.jwks().clone());
    response.no_store = false;
    response
}

/// `GET /.well-known/jwks.json`.
pub async fn well_known_jwks(live: web::Data<LiveConfig>) -> HttpResponse {
    let pipeline = live.snapshot();
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(pipeline.session_keys.jwks().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_found_under_the_base_path_only() {
        let cases = [
            ("/api/auth/csrf", "/api/auth", Some("csrf")),
            ("/api/auth/csrf/", "/api/auth", Some("csrf")),
            (
                "/api/auth/signin/github",
                "/api/auth",
                Some("signin/github"),
            ),
            ("/api/authx/csrf", "/api/auth", None),
            ("/other/csrf", "/api/auth", None),
            ("/csrf", "", Some("csrf")),
        ];
        for (path, base, expected) in cases {
            assert_eq!(action_of(path, base), expected, "{path}");
        }
    }
}
