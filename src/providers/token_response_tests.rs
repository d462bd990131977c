use serde_json::{Value, json};

use super::*;

fn answer(status: u16, content_type: &str, body: &str) -> oauth2::HttpResponse {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn body_of(response: &oauth2::HttpResponse) -> Value {
    serde_json::from_slice(response.body()).unwrap()
}

#[test]
fn provider_token_shapes_are_read_as_rfc_6749_describes() {
    let json = "application/json";
    let cases = [
        (
            "scope as a JSON array (Twitch)",
            json,
            r#"{"access_token":"a","token_type":"bearer","scope":["user:read:email","openid"]}"#,
            json!({"access_token":"a","token_type":"bearer","scope":"user:read:email openid"}),
        ),
        (
            "expires_in as a numeric string (Naver)",
            json,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"3600"}"#,
            json!({"access_token":"a","token_type":"bearer","expires_in":3600}),
        ),
        (
            "expires_in as a float",
            json,
            r#"{"access_token":"a","token_type":"bearer","expires_in":3599.6}"#,
            json!({"access_token":"a","token_type":"bearer","expires_in":3599}),
        ),
        (
            "an expires_in that is no number is an unknown lifetime",
            json,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"soon"}"#,
            json!({"access_token":"a","token_type":"bearer"}),
        ),
        (
            "a negative expires_in is an unknown lifetime",
            json,
            r#"{"access_token":"a","token_type":"bearer","expires_in":-5}"#,
            json!({"access_token":"a","token_type":"bearer"}),
        ),
        (
            "a missing token_type is bearer (VK)",
            json,
            r#"{"access_token":"a","expires_in":86400,"user_id":1}"#,
            json!({"access_token":"a","token_type":"bearer","expires_in":86400,"user_id":1}),
        ),
        (
            "a null token_type is bearer",
            json,
            r#"{"access_token":"a","token_type":null}"#,
            json!({"access_token":"a","token_type":"bearer"}),
        ),
        (
            "a scope that is neither string nor array is dropped",
            json,
            r#"{"access_token":"a","token_type":"bearer","scope":7}"#,
            json!({"access_token":"a","token_type":"bearer"}),
        ),
        (
            "JSON sent as text/plain",
            "text/plain; charset=utf-8",
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            json!({"access_token":"a","token_type":"Bearer"}),
        ),
        (
            "a form-encoded answer",
            "application/x-www-form-urlencoded",
            "access_token=a%2Fb&token_type=bearer&scope=read%3Auser",
            json!({"access_token":"a/b","token_type":"bearer","scope":"read:user"}),
        ),
        (
            "a standard answer is unchanged",
            json,
            r#"{"access_token":"a","token_type":"bearer","expires_in":60,"refresh_token":"r","scope":"x y"}"#,
            json!({"access_token":"a","token_type":"bearer","expires_in":60,"refresh_token":"r","scope":"x y"}),
        ),
    ];
    for (case, content_type, body, expected) in cases {
        let response = normalise(answer(200, content_type, body));
        assert_eq!(response.status(), 200, "{case}");
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json",
            "{case}"
        );
        assert_eq!(body_of(&response), expected, "{case}");
    }
}

#[test]
fn an_error_in_a_200_answer_becomes_a_400() {
    let cases = [
        (
            "application/json",
            r#"{"error":"bad_verification_code","error_description":"expired"}"#,
        ),
        (
            "application/x-www-form-urlencoded",
            "error=bad_verification_code",
        ),
    ];
    for (content_type, body) in cases {
        let response = normalise(answer(200, content_type, body));
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(body_of(&response)["error"], "bad_verification_code");
    }
}

#[test]
fn unreadable_answers_pass_through_untouched() {
    let cases = [
        (200, "text/html", "<html>oops</html>"),
        (502, "text/html", "bad gateway"),
        (200, "application/json", "[1,2]"),
        (200, "text/plain", "no=token"),
    ];
    for (status, content_type, body) in cases {
        let response = normalise(answer(status, content_type, body));
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(response.body(), body.as_bytes(), "{body}");
        assert_eq!(response.headers()[http::header::CONTENT_TYPE], content_type);
    }
}

#[test]
fn a_get_token_request_carries_the_form_in_its_query() {
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri("https://api.example.com/token?v=1")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(b"grant_type=authorization_code&code=a%26b".to_vec())
        .unwrap();
    let request = as_get(request).unwrap();
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(
        request.uri().to_string(),
        "https://api.example.com/token?v=1&grant_type=authorization_code&code=a%26b"
    );
    assert!(request.body().is_empty());
    assert!(!request.headers().contains_key(http::header::CONTENT_TYPE));
}
