//! Browser tests of the map page and unit tests of its JavaScript modules, run by node's test
//! runner (`node --test` in this folder) against the server binary built by cargo.
//!
//! Needs Node.js (18 or later), Debian's Chromium at `/usr/bin/chromium` (or `CHROMIUM`),
//! poppler-utils (`pdftoppm`) and `npm ci` run in `tests/e2e`. `.ci/run` and `scripts/test`
//! install them all.

use std::path::{Path, PathBuf};
use std::process::Command;

fn missing_prerequisites(dir: &Path, chromium: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let node = Command::new("node").arg("--version").output();
    match node {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout);
            let major: u32 = version
                .trim()
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            if major < 18 {
                missing.push(format!(
                    "Node.js 18 or later (found {}): apt-get install -y nodejs",
                    version.trim()
                ));
            }
        }
        _ => missing.push("Node.js (`node` on PATH): apt-get install -y nodejs npm".into()),
    }
    if !chromium.exists() {
        missing.push(format!(
            "Chromium at {}: apt-get install -y chromium (or set CHROMIUM)",
            chromium.display()
        ));
    }
    if Command::new("pdftoppm").arg("-v").output().is_err() {
        missing
            .push("pdftoppm (checks the printed report): apt-get install -y poppler-utils".into());
    }
    for package in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(package).exists() {
            missing.push(format!(
                "the npm package {package}: run `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci` in {}",
                dir.display()
            ));
        }
    }
    missing
}

#[test]
fn the_map_works_in_a_real_browser() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let missing = missing_prerequisites(&dir, &chromium);
    assert!(
        missing.is_empty(),
        "the browser tests cannot run; missing:\n  - {}\n(scripts/test installs them)",
        missing.join("\n  - ")
    );
    let status = Command::new("node")
        .arg("--test")
        .current_dir(&dir)
        .env("ANCRAGE_BIN", env!("CARGO_BIN_EXE_ancrage"))
        .env("CHROMIUM", &chromium)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .status()
        .expect("starting node");
    assert!(
        status.success(),
        "node --test failed in {} ({status}); screenshots are in tests/e2e/artifacts",
        dir.display()
    );
}
