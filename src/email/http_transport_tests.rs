use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn config(value: serde_json::Value) -> HttpTransportConfig {
    serde_json::from_value(value).unwrap()
}

fn context() -> MessageContext {
    MessageContext {
        url: "https://auth.example.com/api/auth/callback/email?token=t&email=ada%40example.com"
            .into(),
        host: "auth.example.com".into(),
        email: "ada@example.com".into(),
        expires: "2026-12-01T10:00:00Z".into(),
        provider: "Email".into(),
        brand_color: String::new(),
        button_text: String::new(),
    }
}

fn message() -> RenderedMessage {
    RenderedMessage {
        subject: "Sign in to auth.example.com".into(),
        text: "Open \"this\" link".into(),
        html: "<a href=\"x\">go</a>".into(),
    }
}

fn from() -> Mailbox {
    "Example <auth@example.com>".parse().unwrap()
}

#[test]
fn templates_render_into_the_request() {
    let transport = HttpTransport::build(
        &config(json!({
            "url": "https://api.example.com/v3/{{ from_domain }}/messages",
            "headers": {"Authorization": "Basic {{ ('api:' ~ api_key) | base64 }}"},
            "json": {
                "from": {"email": "{{ from_address }}", "name": "{{ from_name }}"},
                "to": ["{{ email }}"],
                "subject": "{{ subject }}",
                "text": "{{ text }}",
                "html": "{{ html }}",
                "template": "{{ settings.template }}",
                "track": false,
            },
        })),
        Some("test-key"),
        &BTreeMap::from([("template".to_string(), "t-1".to_string())]),
        Some(&from()),
    )
    .unwrap();
    let request = transport
        .request(&context(), &message(), Some(&from()))
        .unwrap();
    assert_eq!(
        request.url.as_str(),
        "https://api.example.com/v3/example.com/messages"
    );
    assert_eq!(request.method, HttpMethod::Post);
    assert_eq!(
        request.headers,
        vec![(
            "Authorization".to_string(),
            "Basic YXBpOnRlc3Qta2V5".to_string()
        )]
    );
    assert_eq!(
        request.body,
        HttpBody::Json(json!({
            "from": {"email": "auth@example.com", "name": "Example"},
            "to": ["ada@example.com"],
            "subject": "Sign in to auth.example.com",
            "text": "Open \"this\" link",
            "html": "<a href=\"x\">go</a>",
            "template": "t-1",
            "track": false,
        }))
    );
}

#[test]
fn values_printed_into_the_url_stay_one_segment() {
    let transport = HttpTransport::build(
        &config(json!({"url": "https://api.example.com/contacts/{{ email }}?next={{ url }}"})),
        None,
        &BTreeMap::new(),
        None,
    )
    .unwrap();
    let mut hostile = context();
    hostile.email = "a/../admin?x=1#@example.com".into();
    let request = transport.request(&hostile, &message(), None).unwrap();
    assert_eq!(request.url.host_str(), Some("api.example.com"));
    assert_eq!(
        request.url.path(),
        "/contacts/a%2F..%2Fadmin%3Fx%3D1%23%40example.com"
    );
    assert_eq!(request.url.fragment(), None);
    let next: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    assert_eq!(next, vec![("next".to_string(), context().url)]);
}

#[test]
fn a_form_body_keeps_its_fields() {
    let transport = HttpTransport::build(
        &config(json!({
            "url": "https://api.example.com/send",
            "method": "PUT",
            "form": {"to": "{{ email }}", "link": "{{ url }}"},
        })),
        None,
        &BTreeMap::new(),
        None,
    )
    .unwrap();
    let request = transport.request(&context(), &message(), None).unwrap();
    assert_eq!(request.method, HttpMethod::Put);
    assert_eq!(
        request.body,
        HttpBody::Form(vec![
            ("link".into(), context().url),
            ("to".into(), "ada@example.com".into()),
        ])
    );
}

#[test]
fn unusable_requests_are_configuration_errors_naming_the_field() {
    let cases = [
        (json!({"url": "{{ nope }}"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "file:///etc/passwd"}), "url"),
        (json!({"url": "http://api.example.com/send"}), "url"),
        // A value that is a dot segment would name another path.
        (
            json!({"url": "https://api.example.com/a/{{ '..' }}/admin"}),
            "url",
        ),
        // The URL cannot include a template that prints values raw.
        (
            json!({"url": "https://api.example.com/{% include 'headers/X#1' %}", "headers": {"X": "{{ email }}"}}),
            "url",
        ),
        (
            json!({"url": "https://a.example", "headers": {"X-Key": "{{ api_key"}}),
            "headers/X-Key",
        ),
        (
            json!({"url": "https://a.example", "headers": {"bad name": "x"}}),
            "headers/bad name",
        ),
        (
            json!({"url": "https://a.example", "headers": {"X-Key": "a\nb"}}),
            "headers/X-Key",
        ),
        (
            json!({"url": "https://a.example", "json": {"to": ["{{ settings.missing }}"]}}),
            "json/to/0",
        ),
        (
            json!({"url": "https://a.example", "json": {}, "form": {}}),
            "json",
        ),
        (
            json!({"url": "https://a.example", "form": {"x": "{% for %}"}}),
            "form/x",
        ),
    ];
    for (http, field) in cases {
        let error =
            HttpTransport::build(&config(http.clone()), None, &BTreeMap::new(), None).unwrap_err();
        assert_eq!(error.field, field, "{http}: {}", error.message);
    }
}
