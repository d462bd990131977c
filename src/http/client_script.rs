//! `{basePath}/client.js` and its declarations `{basePath}/client.d.ts`: the browser client,
//! compiled into the binary. It finds the endpoints from its own URL, so the same file
//! serves any base path. Browsers revalidate it with its ETag.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

const CLIENT_JS: &str = include_str!("../client/authgate.js");
const CLIENT_DTS: &str = include_str!("../client/authgate.d.ts");

struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: String,
}

impl Asset {
    fn new(body: &'static str, content_type: &'static str) -> Asset {
        let digest = Sha256::digest(body.as_bytes());
        Asset {
            body,
            content_type,
            etag: format!("\"{}\"", crate::text::lower_hex(&digest[..12])),
        }
    }
}

static SCRIPT: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(CLIENT_JS, "text/javascript; charset=utf-8"));
static DECLARATIONS: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(CLIENT_DTS, "application/typescript; charset=utf-8"));

/// The asset an action names, if it names one.
pub fn serve(action: &str, request: &HttpRequest) -> Option<HttpResponse> {
    let asset: &Asset = match action {
        "client.js" => &SCRIPT,
        "client.d.ts" => &DECLARATIONS,
        _ => return None,
    };
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag));
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, no-cache"),
        ))
        .insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    Some(if unchanged {
        response.finish()
    } else {
        response.content_type(asset.content_type).body(asset.body)
    })
}
