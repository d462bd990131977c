//! Whether library errors capture backtraces. `RUST_BACKTRACE=1`, often set for panics,
//! also makes every `anyhow` error capture one, and josekit builds an `anyhow` error for
//! every token it refuses: ~40 µs of stack walking for each bad cookie anyone sends
//! (measured with `perf` on `GET /session`, issue 17). `RUST_LIB_BACKTRACE=0` keeps panic
//! backtraces without that cost. Setting it from inside the process would race the
//! runtime's threads, so authgate warns at start instead.

/// Whether errors from libraries capture a backtrace, by the rules of
/// `std::backtrace::Backtrace::capture`: `RUST_LIB_BACKTRACE` when set, else
/// `RUST_BACKTRACE`; any value but `0` turns capture on.
pub fn library_backtraces(lib: Option<&str>, all: Option<&str>) -> bool {
    lib.or(all).is_some_and(|value| value != "0")
}

/// The start-up warning, when this process's environment turns capture on.
pub fn warning() -> Option<&'static str> {
    let lib = std::env::var("RUST_LIB_BACKTRACE").ok();
    let all = std::env::var("RUST_BACKTRACE").ok();
    library_backtraces(lib.as_deref(), all.as_deref()).then_some(
        "library backtraces are on (RUST_BACKTRACE or RUST_LIB_BACKTRACE set, and \
         RUST_LIB_BACKTRACE not 0): every refused token captures a backtrace (tens of \
         microseconds for each bad cookie anyone sends); set RUST_LIB_BACKTRACE=0 to keep \
         panic backtraces without that cost",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_backtraces_follow_the_std_rules() {
        let cases = [
            (None, None, false),
            (None, Some("1"), true),
            (None, Some("full"), true),
            (None, Some("0"), false),
            (Some("0"), Some("1"), false),
            (Some("1"), Some("0"), true),
            (Some("1"), None, true),
        ];
        for (lib, all, on) in cases {
            assert_eq!(library_backtraces(lib, all), on, "{lib:?} {all:?}");
        }
    }
}
