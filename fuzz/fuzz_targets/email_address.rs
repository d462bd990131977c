//! The email address rule (`email::address::normalize_address`) on addresses an attacker
//! types into the sign-in form or puts in a link.
//!
//! Properties:
//! - no panic, whatever the bytes (invalid UTF-8 is read lossily, as a form field would be);
//! - an accepted address is one mailbox: lowercase ASCII, exactly one `@`, no whitespace,
//!   control character, quote, comma, bracket or backslash, at most 254 bytes;
//! - normalising is idempotent, and ASCII case or surrounding space never changes it.

#![no_main]

use authgate::email::address::normalize_address;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let Ok(address) = normalize_address(&input) else {
        return;
    };
    assert!(address.len() <= 254, "{address:?}");
    assert!(address.is_ascii(), "{address:?}");
    assert_eq!(address, address.to_ascii_lowercase(), "{address:?}");
    assert_eq!(address.matches('@').count(), 1, "{address:?}");
    assert!(
        !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\",;<>()[]\\".contains(c)),
        "{address:?}"
    );
    assert_eq!(normalize_address(&address).as_deref(), Ok(address.as_str()));
    let shouted = format!("  {}\t", input.to_ascii_uppercase());
    assert_eq!(normalize_address(&shouted).as_deref(), Ok(address.as_str()), "{input:?}");
});
