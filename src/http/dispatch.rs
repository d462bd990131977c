//! Routes `{basePath}/<action>[/<provider>]` to its handler. The base path is read from the
//! request's pipeline snapshot, so a reload that changes it takes effect at once.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{csrf, providers, responses};
use crate::reload::LiveConfig;

/// The Auth.js action named by `path`, if it lies under `base_path`.
fn action_of<'a>(path: &'a str, base_path: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base_path)?;
    let rest = rest.strip_prefix('/')?;
    Some(rest.trim_end_matches('/'))
}

pub async fn dispatch(request: HttpRequest, live: web::Data<LiveConfig>) -> HttpResponse {
    let pipeline = live.snapshot();
    let Some(action) = action_of(request.path(), &pipeline.base_path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Not Found");
    };
    let method = request.method().clone();
    if method != Method::GET && method != Method::POST {
        return responses::method_not_allowed();
    }
    match (method.as_str(), action) {
        ("GET", "csrf") => csrf::get(&request, &pipeline),
        ("GET", "providers") => providers::get(&request, &pipeline),
        (method, _) => responses::unknown_action(method),
    }
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
