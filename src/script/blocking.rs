//! Whether a script may run long enough to stall an async worker: one that loops,
//! defines or calls functions through pointers, iterates a collection with a closure, or
//! calls a password helper. The others are straight-line code over bounded values, a few
//! microseconds, and run in place rather than hopping to the blocking pool. The test is
//! on words, so a word in a string literal only sends a script to the pool (safe).

/// Words that make a script one that may block.
const MAY_BLOCK: &[&str] = &[
    // Loops and functions.
    "while",
    "loop",
    "for",
    "do",
    "fn",
    "call",
    "curry",
    // Iteration with closures.
    "map",
    "filter",
    "reduce",
    "for_each",
    "all",
    "some",
    "sort",
    "retain",
    "drain",
    "dedup",
    "range",
    "zip",
    "index_of",
    "find",
    "find_map",
    // Password hashing (milliseconds by design).
    "verify_password",
    "hash_password",
];

/// Whether `code` may take long enough that it must not run on an async worker.
pub fn may_block(code: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| MAY_BLOCK.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::may_block;

    #[test]
    fn only_straight_line_scripts_without_password_helpers_run_in_place() {
        let cases = [
            ("session.user.id = token.sub; session", false),
            ("if user != () { token.role = user.role; } token", false),
            ("token.sub.to_upper()", false),
            ("let i = 0; while i < 10 { i += 1; } token", true),
            ("loop { break; }", true),
            ("for x in [1, 2] { }", true),
            ("do { x += 1 } until x > 3", true),
            ("fn f(x) { f(x) } f(1)", true),
            ("[1, 2, 3].map(|x| x * 2)", true),
            ("verify_password(credentials.password, hash)", true),
            ("hash_password(p)", true),
            // A word in a string also counts: the safe side.
            ("session.note = \"for all\"; session", true),
            // Part of a longer word does not.
            ("session.format = token.fortune; session", false),
        ];
        for (code, expected) in cases {
            assert_eq!(may_block(code), expected, "{code}");
        }
    }
}
