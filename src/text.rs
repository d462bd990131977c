//! Small text helpers for messages: "did you mean" suggestions.

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

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_and_case_slips() {
        let names = ["signIn", "redirect", "jwt", "session"];
        assert_eq!(did_you_mean("signin", names), Some("signIn"));
        assert_eq!(did_you_mean("sesion", names), Some("session"));
        assert_eq!(did_you_mean("githb", ["github", "gitlab"]), Some("github"));
        assert_eq!(did_you_mean("banana", names), None);
    }
}
