//! The built-in pages (sign-in, sign-out, verify-request, error), rendered from minijinja
//! templates: the built-in ones, or a site's own from `pages.templates`. Every value a
//! template prints is HTML-escaped, and a render is bounded (fuel), so neither a request nor
//! a template can inject markup or loop forever. A site template that fails at run time is
//! logged and the built-in page is served instead: a broken template never costs a sign-in.

pub mod messages;
pub mod theme;

use crate::config::codes::Code;
use std::sync::LazyLock;

use minijinja::Environment;
use serde_json::json;

use crate::config::diagnostics::{Diagnostic, SourceLocation};
use crate::config::model::Config;
use messages::Messages;
use theme::PageTheme;

/// The most template work one page of a site's templates may take (minijinja fuel units),
/// plus `FUEL_PER_ITEM` per provider and form field, which the pages loop over. The
/// built-in templates run unmetered: they loop over the configuration only.
const FUEL: u64 = 200_000;
const FUEL_PER_ITEM: u64 = 2_000;

/// The built-in templates, by name; a site's directory may replace any of them.
pub const BUILT_IN_TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("signin.html", include_str!("templates/signin.html")),
    ("signout.html", include_str!("templates/signout.html")),
    (
        "verify-request.html",
        include_str!("templates/verify-request.html"),
    ),
    ("error.html", include_str!("templates/error.html")),
];

/// A page authgate serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    SignIn,
    SignOut,
    VerifyRequest,
    Error,
}

impl Page {
    pub const ALL: [Page; 4] = [
        Page::SignIn,
        Page::SignOut,
        Page::VerifyRequest,
        Page::Error,
    ];

    pub fn template(self) -> &'static str {
        match self {
            Page::SignIn => "signin.html",
            Page::SignOut => "signout.html",
            Page::VerifyRequest => "verify-request.html",
            Page::Error => "error.html",
        }
    }
}

/// A template file of the site's `pages.templates` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    /// The file name, which is the template's name (`signin.html`, or a partial).
    pub name: String,
    /// The path, for diagnostics.
    pub display: String,
    pub text: String,
}

fn environment(fuel: Option<u64>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(fuel);
    // Block tags leave no blank lines behind.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // `.html` templates escape what they print; that is minijinja's default, stated here
    // because the pages' safety rests on it.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env
}

static BUILT_IN: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = environment(None);
    for (name, text) in BUILT_IN_TEMPLATES {
        if let Err(error) = env.add_template(name, text) {
            // Covered by a unit test; a release never gets here.
            tracing::error!(%error, "a built-in page template does not compile");
        }
    }
    env
});

/// The pages of one configuration: templates, wording and theme.
#[derive(Debug)]
pub struct Pages {
    /// The site's templates over the built-in ones; `None` when the site has none.
    custom: Option<Environment<'static>>,
    pub messages: Messages,
    pub theme: PageTheme,
}

impl Pages {
    /// Compiles the site's templates and tries each page once with example values, so that
    /// `authgate check` (and a reload) reports a template that cannot render.
    pub fn new(config: &Config, templates: &[TemplateFile]) -> Result<Pages, Vec<Diagnostic>> {
        let mut pages = Pages {
            custom: None,
            messages: Messages::new(&config.pages.messages),
            theme: PageTheme::new(&config.theme),
        };
        if templates.is_empty() {
            return Ok(pages);
        }
        let items: usize = config
            .providers
            .iter()
            .map(|provider| {
                1 + provider
                    .credentials
                    .as_ref()
                    .map_or(0, |fields| fields.len())
            })
            .sum();
        let fuel = FUEL.saturating_add(FUEL_PER_ITEM.saturating_mul(items as u64));
        let mut env = environment(Some(fuel));
        for (name, text) in BUILT_IN_TEMPLATES {
            if !templates.iter().any(|file| file.name == *name) {
                env.add_template(name, text)
                    .map_err(|error| vec![template_diagnostic(&error, templates)])?;
            }
        }
        let mut errors = Vec::new();
        for file in templates {
            if let Err(error) = env.add_template_owned(file.name.clone(), file.text.clone()) {
                errors.push(template_diagnostic(&error, templates));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for page in Page::ALL {
            let context = pages.context(&example_context(page));
            if let Err(error) = env
                .get_template(page.template())
                .and_then(|template| template.render(minijinja::value::Serde(&context)))
            {
                errors.push(template_diagnostic(&error, templates));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        pages.custom = Some(env);
        Ok(pages)
    }

    /// `values` with the wording and the theme added.
    fn context(&self, values: &serde_json::Value) -> serde_json::Value {
        let mut context = values.clone();
        if let Some(object) = context.as_object_mut() {
            object.insert("t".into(), json!(self.messages.as_map()));
            object.insert("theme".into(), json!(self.theme));
        }
        context
    }

    /// Renders `page` with `values` (an object). A site template that fails is logged and
    /// the built-in one is used; `None` only if that fails too (a bug: a unit test renders
    /// every built-in page).
    pub fn render(&self, page: Page, values: &serde_json::Value) -> Option<String> {
        let context = minijinja::Value::from(minijinja::value::Serde(self.context(values)));
        let render = |env: &Environment<'static>| {
            env.get_template(page.template())
                .and_then(|template| template.render(context.clone()))
        };
        if let Some(custom) = &self.custom {
            match render(custom) {
                Ok(html) => return Some(html),
                Err(error) => {
                    tracing::error!(template = page.template(), %error, "a site page template failed; serving the built-in page");
                }
            }
        }
        render(&BUILT_IN)
            .map_err(|error| {
                tracing::error!(template = page.template(), %error, "a built-in page template failed");
            })
            .ok()
    }
}

/// A template error as a diagnostic at its file and line.
fn template_diagnostic(error: &minijinja::Error, templates: &[TemplateFile]) -> Diagnostic {
    let name = error.name().unwrap_or_default();
    let display = templates
        .iter()
        .find(|file| file.name == name)
        .map_or_else(|| format!("built-in {name}"), |file| file.display.clone());
    let mut detail = error.detail().map(str::to_string).unwrap_or_default();
    if detail.is_empty() {
        detail = error.kind().to_string();
    }
    let diagnostic = Diagnostic::error(
        Code::Pages,
        "pages.templates",
        format!("the page template `{name}` cannot be used: {detail}"),
    );
    match error.line() {
        Some(line) => diagnostic.at(SourceLocation {
            file: display,
            line,
            column: 1,
        }),
        None => diagnostic,
    }
}

/// Values like those a real request gives each page, for the check at compile time.
fn example_context(page: Page) -> serde_json::Value {
    let provider = json!({"id": "example", "name": "Example", "action": "https://auth.example.com/api/auth/signin/example"});
    let mut values = json!({
        "page": page.template().trim_end_matches(".html"),
        "csrfToken": "0".repeat(64),
        "callbackUrl": "https://app.example.com/",
        "authUrl": "https://auth.example.com/api/auth",
        "siteUrl": "https://auth.example.com",
        "host": "auth.example.com",
        "signInUrl": "https://auth.example.com/api/auth/signin",
        "cancelUrl": "https://app.example.com/",
        "error": "Example error",
        "errorCode": "Default",
        "email": "",
        "domain": "example.com",
        "provider": "email",
        "status": 200,
    });
    values["providers"] = json!({
        "oauth": [provider],
        "email": [provider],
        "credentials": [{
            "id": "example", "name": "Example", "action": "https://auth.example.com/api/auth/callback/example",
            "fields": [{"id": "input-username-for-example-provider", "name": "username", "label": "Username", "type": "text", "placeholder": "", "autocomplete": "username"}],
        }],
    });
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: serde_json::Value) -> Config {
        let mut config = json!({"url": "https://auth.example.com", "secret": "0123456789abcdef0123456789abcdef"});
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        serde_json::from_value(config).unwrap()
    }

    fn file(name: &str, text: &str) -> TemplateFile {
        TemplateFile {
            name: name.into(),
            display: format!("pages/{name}"),
            text: text.into(),
        }
    }

    #[test]
    fn every_built_in_page_renders_its_example() {
        let pages = Pages::new(&config(json!({})), &[]).unwrap();
        for page in Page::ALL {
            let html = pages.render(page, &example_context(page)).unwrap();
            assert!(html.starts_with("<!DOCTYPE html>"), "{page:?}: {html}");
        }
    }

    #[test]
    fn values_are_escaped_in_every_page() {
        let pages = Pages::new(&config(json!({})), &[]).unwrap();
        let mut values = example_context(Page::Error);
        values["error"] = json!("<script>alert(1)</script>");
        values["host"] = json!("\"><img src=x onerror=alert(1)>");
        let html = pages.render(Page::Error, &values).unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
    }

    #[test]
    fn site_templates_replace_pages_and_see_the_wording() {
        let config = config(json!({"pages": {"messages": {"signout.title": "Abmelden"}}}));
        let templates = [file(
            "signout.html",
            "{% extends \"layout.html\" %}{% block content %}<h1>{{ t[\"signout.title\"] }}</h1>{% endblock %}",
        )];
        let pages = Pages::new(&config, &templates).unwrap();
        let html = pages
            .render(Page::SignOut, &example_context(Page::SignOut))
            .unwrap();
        assert!(html.contains("<h1>Abmelden</h1>"), "{html}");
        // The other pages stay built in.
        let sign_in = pages
            .render(Page::SignIn, &example_context(Page::SignIn))
            .unwrap();
        assert!(sign_in.contains("Sign in with Example"), "{sign_in}");
    }

    #[test]
    fn a_broken_site_template_is_reported_at_its_line() {
        let templates = [file("error.html", "line one\n{% if error %}\nnever closed")];
        let errors = Pages::new(&config(json!({})), &templates).unwrap_err();
        assert_eq!(errors.len(), 1);
        let location = errors[0].location.as_ref().unwrap();
        assert_eq!(location.file, "pages/error.html");
        assert!(
            errors[0].message.contains("error.html"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_template_that_cannot_render_is_refused_before_it_serves() {
        let templates = [file("signin.html", "{{ t | nosuchfilter }}")];
        assert!(Pages::new(&config(json!({})), &templates).is_err());
        let endless = [file(
            "verify-request.html",
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        )];
        assert!(Pages::new(&config(json!({})), &endless).is_err());
    }
}
