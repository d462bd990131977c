//! The address an email sign-in is for, normalised as Auth.js does (trimmed, lowercased)
//! and checked more strictly than it does, so that one mailbox has exactly one spelling
//! and no input can name two mailboxes: exactly one `@`; a local part of plain ASCII
//! characters (no quotes, commas, spaces, brackets or look-alikes such as the fullwidth
//! `＠`); a domain that is a real host name (IDNA-mapped to ASCII, at least two labels,
//! no IP literal).

use std::fmt;

/// Why an address was refused. The text is for the log, never echoed to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError(pub &'static str);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// RFC 5321's limits: 64 octets of local part, 254 of address.
const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;
const MAX_LABEL: usize = 63;

/// The normalised form of `input`: `local@domain`, lowercase ASCII.
pub fn normalize_address(input: &str) -> Result<String, AddressError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(AddressError("the address is empty"));
    }
    let mut parts = trimmed.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AddressError("the address must have exactly one `@`"));
    };
    // Checked before lowercasing, and lowercased by ASCII rules only: Unicode lowercasing
    // would turn look-alikes such as the Kelvin sign into plain letters.
    check_local_part(local)?;
    let local = local.to_ascii_lowercase();
    let domain = normalize_domain(&domain.to_lowercase())?;
    let address = format!("{local}@{domain}");
    if address.len() > MAX_ADDRESS {
        return Err(AddressError("the address is longer than 254 characters"));
    }
    Ok(address)
}

/// The one spelling under which an email from a provider's profile, a script or a lookup
/// is stored and compared: `normalize_address`'s form when it is a valid address, else
/// trimmed and lowercased by ASCII rules (Unicode lowercasing would turn the Kelvin sign
/// into `k`); `None` when blank.
pub fn normalize_email(input: &str) -> Option<String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(normalize_address(trimmed).unwrap_or_else(|_| trimmed.to_ascii_lowercase()))
}

/// A dot-atom of RFC 5322 `atext`: no quoted strings, comments, spaces or non-ASCII.
fn check_local_part(local: &str) -> Result<(), AddressError> {
    if local.is_empty() || local.len() > MAX_LOCAL {
        return Err(AddressError(
            "the part before `@` must have 1 to 64 characters",
        ));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if !local.chars().all(|c| atext(c) || c == '.') {
        return Err(AddressError(
            "the part before `@` has a character that is not allowed (quotes, commas, spaces, brackets and non-ASCII are refused)",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(AddressError("the part before `@` has a misplaced dot"));
    }
    Ok(())
}

/// The domain as lowercase ASCII (IDNA), checked to be a host name with a top-level label.
fn normalize_domain(domain: &str) -> Result<String, AddressError> {
    let refused = AddressError("the domain is not a valid host name");
    // Characters the IDNA mapping would turn into URL syntax are refused before it runs.
    if domain.is_empty()
        || domain.contains(|c: char| c.is_whitespace() || "[]/\\?#%:,\"".contains(c))
    {
        return Err(refused);
    }
    let ascii = match url::Host::parse(domain) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => return Err(refused),
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= MAX_LABEL
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let top_ok = labels
        .last()
        .is_some_and(|top| !top.chars().all(|c| c.is_ascii_digit()));
    if labels.len() < 2 || !labels.iter().all(|label| label_ok(label)) || !top_ok {
        return Err(refused);
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_surrounding_space_map_to_one_address() {
        let cases = [
            ("ada@example.com", "ada@example.com"),
            ("  Ada@Example.COM \n", "ada@example.com"),
            ("\tADA@EXAMPLE.com", "ada@example.com"),
            (
                "first.last+tag@sub.example.co.uk",
                "first.last+tag@sub.example.co.uk",
            ),
            // A Unicode domain is its IDNA (punycode) form.
            ("ada@bücher.example", "ada@xn--bcher-kva.example"),
            // Fullwidth letters in the domain are the same host.
            ("ada@ｅｘａｍｐｌｅ.com", "ada@example.com"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_address(input).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn addresses_that_could_name_another_mailbox_are_refused() {
        let cases = [
            "\"a@b\"@evil.com",
            "a@b@evil.com",
            "a@b.com, c@evil.com",
            "a@b.com,c@evil.com",
            "a＠evil.com",
            "a＠evil.com@good.com",
            "a@good.com＠evil.com",
            "a b@example.com",
            "a@exa mple.com",
            "<a@example.com>",
            "a@example.com>",
            "(comment)a@example.com",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "a@localhost",
            "a@example",
            "a@-example.com",
            "a@example-.com",
            "a@example..com",
            "a@.example.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "ädä@example.com",
            "a@example.com\r\nBcc: c@evil.com",
            "a\u{0}@example.com",
            "@example.com",
            "a@",
            "",
            "   ",
            "a@example.com/x",
            // The Kelvin sign lowercases to `k` under Unicode rules.
            "\u{212A}@example.com",
            "a@example.com:25",
            "a@example.123",
        ];
        for input in cases {
            assert!(normalize_address(input).is_err(), "{input:?} was accepted");
        }
    }

    #[test]
    fn over_long_addresses_are_refused() {
        let local = "a".repeat(65);
        assert!(normalize_address(&format!("{local}@example.com")).is_err());
        let label = "b".repeat(60);
        let long_domain = [label.as_str(); 5].join(".");
        assert!(normalize_address(&format!("a@{long_domain}.com")).is_err());
        assert!(normalize_address(&format!("a@{}.com", "c".repeat(64))).is_err());
    }
}
