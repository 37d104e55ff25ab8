//! The generated fixtures are what their generators write: each `tests/fixtures/<group>/cases.py`
//! is run on a copy of the fixture folders, and the JSON it writes must equal the committed
//! files byte for byte, with none missing and none left over. A case edited by hand in the
//! JSON (and lost at the next regeneration) fails here.
//!
//! `conformance/convert.py` is not run: it converts the reference webhook's own fixtures,
//! which are not part of this repository.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The groups whose JSON is written by a `cases.py` (the others import mutation's helpers;
/// workloads, allowlist and stale also validation's and workloads').
const GROUPS: [&str; 7] = [
    "mutation",
    "hostile",
    "validation",
    "faults",
    "workloads",
    "allowlist",
    "stale",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `.json` files of `dir`, by name.
fn json_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, fs::read(&path).unwrap());
        }
    }
    files
}

#[test]
fn generated_fixtures_equal_their_generators() {
    let scratch = std::env::temp_dir().join(format!("awi-fixtures-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).unwrap();
    fs::copy(fixtures().join("groups.py"), scratch.join("groups.py")).unwrap();
    for group in GROUPS {
        fs::create_dir_all(scratch.join(group)).unwrap();
        fs::copy(
            fixtures().join(group).join("cases.py"),
            scratch.join(group).join("cases.py"),
        )
        .unwrap();
    }
    let mut problems = Vec::new();
    for group in GROUPS {
        let script = scratch.join(group).join("cases.py");
        let run = match Command::new("python3").arg(&script).output() {
            Ok(run) => run,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("python3 not found: the fixture generators were not checked");
                return;
            }
            Err(e) => panic!("python3 {}: {e}", script.display()),
        };
        assert!(
            run.status.success(),
            "{group}/cases.py failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let generated = json_files(&scratch.join(group));
        let committed = json_files(&fixtures().join(group));
        for (name, bytes) in &committed {
            match generated.get(name) {
                None => problems.push(format!("{group}/{name}: committed, not generated")),
                Some(g) if g != bytes => {
                    problems.push(format!("{group}/{name}: differs from what cases.py writes"))
                }
                Some(_) => {}
            }
        }
        for name in generated.keys().filter(|n| !committed.contains_key(*n)) {
            problems.push(format!("{group}/{name}: generated, not committed"));
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    assert!(
        problems.is_empty(),
        "regenerate with python3 tests/fixtures/<group>/cases.py:\n{}",
        problems.join("\n")
    );
}
