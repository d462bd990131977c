//! The look of the built-in pages: the colour scheme, the brand colours and the logo, made
//! safe for a `style` attribute and readable. A colour pair whose contrast is below the WCAG
//! AA level for text gets a readable text colour instead.

use serde::Serialize;

use crate::config::model::{ColorScheme, ThemeConfig};
use crate::text::css_color;

/// The brand colour when the theme sets none.
pub const DEFAULT_BRAND_COLOR: &str = "#346df1";
/// The text on the brand colour when the theme sets none.
pub const DEFAULT_BUTTON_TEXT: &str = "#ffffff";
/// WCAG 2 AA: the least contrast for normal text.
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

/// What the page templates see as `theme`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageTheme {
    /// `auto`, `light` or `dark`.
    pub color_scheme: &'static str,
    pub brand_color: String,
    pub button_text: String,
    /// An image source (https, a path, or a data URL), never markup.
    pub logo: Option<String>,
}

impl PageTheme {
    pub fn new(theme: &ThemeConfig) -> PageTheme {
        let brand_color = theme
            .brand_color
            .as_deref()
            .and_then(css_color)
            .unwrap_or(DEFAULT_BRAND_COLOR)
            .to_string();
        let button_text = theme
            .button_text
            .as_deref()
            .and_then(css_color)
            .unwrap_or(DEFAULT_BUTTON_TEXT)
            .to_string();
        PageTheme {
            color_scheme: match theme.color_scheme {
                ColorScheme::Auto => "auto",
                ColorScheme::Light => "light",
                ColorScheme::Dark => "dark",
            },
            button_text: readable_text(&brand_color, &button_text),
            brand_color,
            logo: theme.logo.as_deref().and_then(image_source),
        }
    }
}

/// A logo as an image source: inline SVG becomes a data URL (so it is drawn as an image and
/// never parsed as markup); data image URLs, https URLs and paths are kept; anything else
/// (`javascript:`, `http:`) is dropped.
pub fn image_source(logo: &str) -> Option<String> {
    use base64::Engine;
    let logo = logo.trim();
    if logo.starts_with("<svg") {
        let encoded = base64::engine::general_purpose::STANDARD.encode(logo);
        return Some(format!("data:image/svg+xml;base64,{encoded}"));
    }
    let allowed = logo.starts_with("data:image/")
        || logo.starts_with("https://")
        || (logo.starts_with('/') && !logo.starts_with("//"));
    // A backslash is a slash to a browser: `/\host` would load from another host.
    (allowed
        && !logo
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\'))
    .then(|| logo.to_string())
}

/// `text` when it reads on `background`, else black or white, whichever reads better.
/// Colours that are not hex (names) are taken as given.
pub fn readable_text(background: &str, text: &str) -> String {
    match contrast_ratio(background, text) {
        Some(ratio) if ratio < MIN_TEXT_CONTRAST => {
            let on_black = contrast_ratio(background, "#000000").unwrap_or(0.0);
            let on_white = contrast_ratio(background, "#ffffff").unwrap_or(0.0);
            if on_black >= on_white {
                "#000000"
            } else {
                "#ffffff"
            }
            .to_string()
        }
        _ => text.to_string(),
    }
}

/// The WCAG 2 contrast ratio of two hex colours (1 to 21); `None` for other colours.
pub fn contrast_ratio(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (relative_luminance(a)?, relative_luminance(b)?);
    let (light, dark) = if la >= lb { (la, lb) } else { (lb, la) };
    Some((light + 0.05) / (dark + 0.05))
}

/// WCAG 2 relative luminance of `#rgb`, `#rgba`, `#rrggbb` or `#rrggbbaa` (alpha ignored).
fn relative_luminance(color: &str) -> Option<f64> {
    let digits = color.strip_prefix('#')?;
    // Byte offsets below are character offsets only for ASCII hex digits.
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |text: &str| u8::from_str_radix(text, 16).ok();
    let (r, g, b) = match digits.len() {
        3 | 4 => {
            let short = |i: usize| channel(&digits[i..=i]).map(|v| v * 17);
            (short(0)?, short(1)?, short(2)?)
        }
        6 | 8 => (
            channel(&digits[0..2])?,
            channel(&digits[2..4])?,
            channel(&digits[4..6])?,
        ),
        _ => return None,
    };
    let linear = |value: u8| {
        let c = f64::from(value) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    Some(0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_ratios_match_wcag() {
        let cases = [
            ("#000000", "#ffffff", 21.0),
            ("#fff", "#fff", 1.0),
            ("#346df1", "#ffffff", 4.6),
            ("#777777", "#ffffff", 4.48),
        ];
        for (a, b, expected) in cases {
            let ratio = contrast_ratio(a, b).unwrap();
            assert!((ratio - expected).abs() < 0.05, "{a} on {b}: {ratio}");
        }
        assert_eq!(contrast_ratio("white", "#000"), None);
        assert_eq!(contrast_ratio("#ggg", "#000"), None);
        // Multi-byte characters never split a byte range.
        assert_eq!(contrast_ratio("#aé", "#000"), None);
        assert_eq!(contrast_ratio("#ééé", "#000"), None);
    }

    #[test]
    fn unreadable_text_colours_are_replaced() {
        let cases = [
            ("#346df1", "#ffffff", "#ffffff"),
            ("#ffff00", "#ffffff", "#000000"),
            ("#111111", "#222222", "#ffffff"),
            ("#24292f", "white", "white"),
        ];
        for (background, text, expected) in cases {
            assert_eq!(readable_text(background, text), expected, "{background}");
        }
    }

    #[test]
    fn only_images_become_logo_sources() {
        let cases = [
            ("<svg viewBox='0 0 1 1'></svg>", true),
            ("data:image/png;base64,AAAA", true),
            ("https://cdn.example.com/logo.png", true),
            ("/logo.png", true),
            ("//evil.example/logo.png", false),
            ("/\\evil.example/logo.png", false),
            ("javascript:alert(1)", false),
            ("http://example.com/logo.png", false),
            ("https://example.com/a b.png", false),
        ];
        for (logo, kept) in cases {
            assert_eq!(image_source(logo).is_some(), kept, "{logo}");
        }
        assert!(
            image_source("<svg/>")
                .unwrap()
                .starts_with("data:image/svg+xml;base64,")
        );
    }
}
