//! Text folding for accent- and case-insensitive matching of French names.

use unicode_normalization::UnicodeNormalization;

/// Folds text for matching: lower case, accents removed, ligatures spelt out, every run of
/// punctuation or spaces made one space. `"Saint-Étienne-du-Rouvray"` → `"saint etienne du rouvray"`.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let piece: &str = match c {
            'œ' | 'Œ' => "oe",
            'æ' | 'Æ' => "ae",
            'ß' => "ss",
            _ => "",
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if piece.is_empty() {
                out.extend(c.to_lowercase());
            } else {
                out.push_str(piece);
            }
        } else {
            pending_space = true;
        }
    }
    out
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
    }
}
