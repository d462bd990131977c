//! Whether a script may run long enough to stall an async worker: one that loops,
//! defines a function or a closure, makes or calls a function pointer, iterates a
//! collection with a closure, or calls a password helper. The others are straight-line
//! code: each statement runs once, over inputs the request limits bound (a 64 KiB body, a
//! 16 KiB cookie header), so they run in place rather than hopping to the blocking pool.
//! The test is on words, so a word in a string literal only sends a script to the pool
//! (safe), and on the compiled script's functions, which include its closures.

use rhai::AST;

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
    // Function pointers (`Fn("name")`) and methods on them (`this`).
    "Fn",
    "this",
    // Iteration with closures.
    "map",
    "filter",
    "reduce",
    "for_each",
    "all",
    "some",
    "sort",
    "sort_by",
    "order",
    "order_by",
    "reduce_rev",
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

/// Whether the script `code`, compiled to `ast`, may take long enough that it must not run
/// on an async worker: by its words, or because it defines functions (closures are
/// compiled into functions too).
pub fn compiled_may_block(code: &str, ast: &AST) -> bool {
    may_block(code) || ast.iter_functions().next().is_some()
}

/// Whether `code` may take long enough that it must not run on an async worker, by its
/// words.
pub fn may_block(code: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| MAY_BLOCK.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::compiled_may_block;

    #[test]
    fn only_straight_line_scripts_without_password_helpers_run_in_place() {
        let cases = [
            ("session.user.id = token.sub; session", false),
            ("if user != () { token.role = user.role; } token", false),
            ("token.sub.to_upper()", false),
            ("let i = 0; while i < 10 { i += 1; } token", true),
            ("loop { break; }", true),
            ("for x in [1, 2] { }", true),
            ("let x = 0; do { x += 1 } until x > 3", true),
            ("fn f(x) { f(x) } f(1)", true),
            ("[1, 2, 3].map(|x| x * 2)", true),
            ("verify_password(credentials.password, hash)", true),
            ("hash_password(p)", true),
            // A word in a string also counts: the safe side.
            ("session.note = \"for all\"; session", true),
            // Part of a longer word does not.
            ("session.format = token.fortune; session", false),
            // Ways around a list of words: function pointers, methods on them, callbacks
            // into sorts, and a closure stored in a map and called as a method (no flagged
            // word at all: the compiled closure gives it away).
            (
                "[\"pw\"].reduce_rev(Fn(\"verify_\" + \"password\"), ())",
                true,
            ),
            (
                "let o = #{}; o.f = |d| { if d > 0 { this.f(d - 1) } }; o.f(30)",
                true,
            ),
            ("let o = #{}; o.f = |d| d + 1; o.f(1)", true),
            ("[3, 1].sort_by(|a, b| a - b)", true),
            ("[3, 1].order_by(|a, b| a - b)", true),
        ];
        let engine = rhai::Engine::new();
        for (code, expected) in cases {
            let ast = engine.compile(code).expect(code);
            assert_eq!(compiled_may_block(code, &ast), expected, "{code}");
        }
    }
}
