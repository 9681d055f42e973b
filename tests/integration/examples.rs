//! The examples behave as command-line tools: `--help` prints the usage and
//! exits 0, a bad argument prints the usage and exits 2, an error is printed
//! as text (never Rust's `Debug` form) with a non-zero exit status, and the
//! output a user reads holds no `Debug` text.

use std::process::{Command, Output};

/// Runs an example through cargo (which builds it if needed).
fn example(name: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", name, "--"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo for example {name}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Marks of Rust's `Debug` form in text meant for people.
fn assert_no_debug_text(what: &str, s: &str) {
    for mark in ["Some(", "None", " { ", "Error: ", "Os {", "TopN"] {
        assert!(!s.contains(mark), "{what} shows Debug text ({mark:?}):\n{s}");
    }
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    for name in ["quickstart", "explain", "kpi_report", "pipeline"] {
        for flag in ["--help", "-h"] {
            let out = example(name, &[flag]);
            let stdout = text(&out.stdout);
            assert!(
                out.status.success(),
                "{name} {flag}: {:?}\n{}",
                out.status,
                text(&out.stderr)
            );
            assert!(
                stdout.starts_with(&format!("Usage: {name}")),
                "{name} {flag}:\n{stdout}"
            );
        }
    }
}

#[test]
fn a_bad_argument_prints_the_usage_and_exits_2() {
    for (name, args) in [
        ("quickstart", &["--bogus"][..]),
        ("explain", &["extra"][..]),
        ("kpi_report", &["--leads", "many"][..]),
        ("kpi_report", &["--out"][..]),
        ("pipeline", &[][..]),
        ("pipeline", &["config.json", "--now", "yesterday"][..]),
    ] {
        let out = example(name, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}:\n{stderr}");
        assert!(stderr.starts_with("error: "), "{name} {args:?}:\n{stderr}");
        assert!(
            stderr.contains(&format!("Usage: {name}")),
            "{name} {args:?}:\n{stderr}"
        );
        assert_no_debug_text(name, &stderr);
    }
}

#[test]
fn an_error_is_printed_as_text_with_exit_status_1() {
    // `main` returning `Box<dyn Error>` printed `Error: Os { code: 2, kind:
    // NotFound, ... }`.
    let out = example(
        "kpi_report",
        &["--olist", "/nonexistent/olist", "--out", "target/kpi_report-test"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read /nonexistent/olist/olist_closed_deals_dataset.csv: "),
        "{stderr}"
    );
    assert_no_debug_text("funnel's error", &stderr);

    let out = example("pipeline", &["/nonexistent/config.json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: /nonexistent/config.json: "),
        "{stderr}"
    );
    assert_no_debug_text("pipeline's error", &stderr);
}

#[test]
fn what_the_examples_print_holds_no_debug_text() {
    // `SAL follow-up speed: Some(60) minutes`, `== Accounts (TopN { n: 3 }) ==`.
    let quickstart = example("quickstart", &[]);
    assert!(quickstart.status.success());
    let stdout = text(&quickstart.stdout);
    assert!(stdout.contains("SAL follow-up speed: 60 minutes"), "{stdout}");
    assert_no_debug_text("quickstart", &stdout);

    let explain = example("explain", &[]);
    assert!(explain.status.success());
    assert_no_debug_text("explain", &text(&explain.stdout));

    let funnel = example(
        "kpi_report",
        &["--leads", "300", "--out", "target/kpi_report-test"],
    );
    assert!(funnel.status.success(), "{}", text(&funnel.stderr));
    let stdout = text(&funnel.stdout);
    assert!(
        stdout.contains("== Accounts (roll-up: sum of the best 3 leads) =="),
        "{stdout}"
    );
    // The last line is the summary as JSON, meant for programs.
    let (people, _json) = stdout.trim_end().rsplit_once('\n').unwrap();
    assert_no_debug_text("kpi_report", people);
}
