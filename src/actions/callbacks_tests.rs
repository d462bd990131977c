//! Unit tests of `callbacks`.

use super::*;

/// A case: its name, the arguments given, the values in parameter order.
type Case = (&'static str, Vec<(&'static str, i32)>, [i32; 5]);

#[test]
fn arguments_follow_the_parameters_filling_gaps_dropping_strangers_and_keeping_the_first() {
    let session = ScriptKey::Callback(Callback::Session);
    let cases: [Case; 4] = [
        ("none given", vec![], [0; 5]),
        (
            "out of order",
            vec![("user", 3), ("session", 1)],
            [1, 0, 3, 0, 0],
        ),
        (
            "a stranger",
            vec![("token", 2), ("stranger", 9)],
            [0, 2, 0, 0, 0],
        ),
        (
            "a name twice",
            vec![("trigger", 4), ("trigger", 8)],
            [0, 0, 0, 4, 0],
        ),
    ];
    for (case, given, expected) in cases {
        let ordered = in_parameter_order(session, given, || 0);
        let names: Vec<&str> = ordered.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            ["session", "token", "user", "trigger", "newSession"],
            "{case}"
        );
        let values: Vec<i32> = ordered.iter().map(|(_, value)| *value).collect();
        assert_eq!(values, expected, "{case}");
    }
}
