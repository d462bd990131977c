//! Small text helpers: "did you mean" suggestions, constant-time comparison, the CSS
//! colours a page or an email may put in a style attribute, and percent-encoding a value
//! put into a URL.

/// The closest of `candidates` to `input`, when it is close enough to be a likely typo
/// (case-insensitive edit distance of at most a third of the word, and at least 1).
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input_lower = input.to_lowercase();
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| {
            (
                edit_distance(&input_lower, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `value` percent-encoded so that it cannot leave the path segment or query value it is
/// put in: only `A-Z a-z 0-9 - . _ *` are left as they are. A whole value of `.` or `..`
/// still reads as a dot segment: callers refuse those. (`byte_serialize` writes a space as
/// `+`, which a path reads literally; a `+` of the value is `%2B`, so every `+` it writes
/// is a space.)
pub fn percent_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A CSS colour that may go into a style attribute: `#rgb`…`#rrggbbaa` or a plain name.
pub fn css_color(color: &str) -> Option<&str> {
    let hex = color.strip_prefix('#').is_some_and(|digits| {
        matches!(digits.len(), 3 | 4 | 6 | 8) && digits.chars().all(|c| c.is_ascii_hexdigit())
    });
    let name =
        !color.is_empty() && color.len() <= 32 && color.chars().all(|c| c.is_ascii_alphabetic());
    (hex || name).then_some(color)
}

/// Edit distance over chars where swapping two neighbours counts as one edit (optimal
/// string alignment), so `fiel` is one edit from `file`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, cell) in table.iter_mut().step_by(width).enumerate() {
        *cell = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1)
                .min(table[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

/// Whether two strings are equal, in time that depends only on their lengths (for
/// comparing secrets, tokens and check values).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `bytes` as lowercase hex.
pub fn lower_hex(bytes: &[u8]) -> String {
    let mut text = vec![0u8; bytes.len() * 2];
    // The buffer is twice the input's length, so this cannot fail.
    let _ = hex::encode_to_slice(bytes, &mut text);
    String::from_utf8(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_hex_writes_what_the_hex_crate_writes() {
        for bytes in [&[][..], &[0], &[0xab, 0xcd, 0xef, 0x01], &[0xff; 32]] {
            assert_eq!(lower_hex(bytes), hex::encode(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn suggestions_catch_typos_and_case_slips() {
        let names = ["signIn", "redirect", "jwt", "session"];
        assert_eq!(did_you_mean("signin", names), Some("signIn"));
        assert_eq!(did_you_mean("sesion", names), Some("session"));
        assert_eq!(did_you_mean("githb", ["github", "gitlab"]), Some("github"));
        assert_eq!(did_you_mean("banana", names), None);
        assert_eq!(did_you_mean("fiel", ["file"]), Some("file"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn only_plain_colours_reach_a_style_attribute() {
        let cases = [
            ("#24292f", true),
            ("#fff", true),
            ("white", true),
            ("#12345", false),
            ("red;background:url(x)", false),
            ("\"><script>", false),
            ("", false),
        ];
        for (color, safe) in cases {
            assert_eq!(css_color(color).is_some(), safe, "{color}");
        }
    }
}
