//! The benchmark still runs and measures (its budgets are reported, never enforced here: a busy
//! machine must not fail the suite). The benchmark's code is compiled into this test, so the
//! test runs exactly what `cargo bench --bench wsmon-bench` runs.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../../benches/wsmon-bench/main.rs"]
mod bench;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmark_measures_reaction_times_and_prints_its_table() {
    let opts = bench::Opts {
        quick: true,
        only: Some(vec!["reaction".into()]),
        wsmon: env!("CARGO_BIN_EXE_wsmon").into(),
        websocat: None,
    };
    let rows = bench::run(&opts).await;
    let table = bench::table(&opts, &rows);
    assert!(
        table.contains("| measurement | result | budget | |"),
        "{table}"
    );
    let measured: Vec<&bench::Row> = rows
        .iter()
        .filter(|r| {
            ["server back", "silent peer", "peer stops reading"]
                .iter()
                .any(|w| r.what.starts_with(w))
        })
        .collect();
    assert_eq!(measured.len(), 3, "{table}");
    for r in measured {
        assert!(
            r.value.contains(" ms / max "),
            "a measured value: {}",
            r.value
        );
    }
}
