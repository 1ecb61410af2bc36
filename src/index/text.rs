//! Text folding for accent- and case-insensitive matching of French names.

use unicode_normalization::char::decompose_canonical;

/// Folds text for matching: lower case, accents removed, ligatures spelt out, every run of
/// punctuation or spaces made one space. `"Saint-Étienne-du-Rouvray"` → `"saint etienne du rouvray"`.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Appends the folded form of `text` (see [`fold`]) to `out`, without allocating.
pub fn fold_into(text: &str, out: &mut String) {
    let start = out.len();
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            // A combining accent left by the decomposition below: dropped.
        } else if c.is_alphanumeric() {
            if pending_space && out.len() > start {
                out.push(' ');
            }
            pending_space = false;
            match c {
                'œ' | 'Œ' => out.push_str("oe"),
                'æ' | 'Æ' => out.push_str("ae"),
                'ß' => out.push_str("ss"),
                c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
                c => out.extend(c.to_lowercase()),
            }
        } else {
            pending_space = true;
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            push(c, out);
        } else {
            // Canonical decomposition splits 'é' into 'e' and a combining accent, dropped above.
            decompose_canonical(c, |d| push(d, out));
        }
    }
}

/// Folds a search query and spells out the usual abbreviations (`st` → `saint`).
#[must_use]
pub fn fold_query(text: &str) -> String {
    fold(text)
        .split(' ')
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_ligatures_and_punctuation() {
        assert_eq!(fold("Saint-Étienne-du-Rouvray"), "saint etienne du rouvray");
        assert_eq!(fold("  L'Haÿ-les-Roses "), "l hay les roses");
        assert_eq!(fold("Œuvre SOCIALE"), "oeuvre sociale");
        assert_eq!(fold_query("St Jean de Braye"), "saint jean de braye");
        let mut arena = String::from("abc");
        fold_into(" -Élan", &mut arena);
        assert_eq!(arena, "abcelan");
    }
}
