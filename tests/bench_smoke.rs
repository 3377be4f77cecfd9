//! The benchmark binary still runs and measures (its budgets are reported, never enforced
//! here: a busy machine must not fail the suite).

use std::process::Command;

#[test]
fn wsmon_bench_measures_reaction_times_and_prints_its_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_wsmon-bench"))
        .args([
            "--quick",
            "--only",
            "reaction",
            "--no-websocat",
            "--wsmon",
            env!("CARGO_BIN_EXE_wsmon"),
        ])
        .output()
        .expect("wsmon-bench runs");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("| measurement | result | budget | |"),
        "{table}"
    );
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| server back") || l.starts_with("| silent peer"))
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    for r in rows {
        assert!(r.contains(" ms / max "), "a measured value: {r}");
    }
}
