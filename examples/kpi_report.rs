//! A funnel KPI report end to end: stage KPIs, conversion, time in stage and to
//! deal, breakdowns, the account view and CSQL, with a funnel chart and a
//! conversion-by-source chart written as SVG.
//!
//! - `cargo run --release --example kpi_report` runs a seeded synthetic history
//!   that goes through every stage (`--leads N`, `--seed S`).
//! - `cargo run --release --example kpi_report -- --olist ../shared/data/olist-marketing-funnel`
//!   runs the Olist marketing funnel: MQLs by origin and month, MQL → won
//!   conversion, time to deal. Its last line is one JSON object.
//!
//! Charts go to `--out DIR` (default `target/kpi_report`). `--help` prints the
//! usage; errors are printed as text, with a non-zero exit status.

#[path = "kpi_report/olist.rs"]
mod olist;
#[path = "kpi_report/svg.rs"]
mod svg;
#[path = "kpi_report/synth.rs"]
mod synth;

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{TimeZone, Utc};
use indexmap::IndexMap;
use leadflow::Stage;
use leadflow::account::AccountModel;
use leadflow::analytics::{
    AnalysisConfig, Breakdown, FunnelAnalysis, FunnelAnalyzer, FunnelMetrics, LeadHistory,
};
use leadflow::criteria::LeadView;
use leadflow::lifecycle::{TransitionKind, csql_evidence};
use svg::{Bar, bar_chart};

const USAGE: &str = "\
Usage: kpi_report [--olist DIR] [--out DIR] [--leads N] [--seed S]

Funnel analytics end to end: stage KPIs, conversion, time in stage and to
deal, breakdowns, the account view and CSQL, with SVG charts.

Options:
  --olist DIR  analyse the Olist marketing funnel in DIR (the folder holding
               olist_marketing_qualified_leads_dataset.csv and
               olist_closed_deals_dataset.csv) instead of a synthetic history
  --out DIR    where to write the charts (default target/kpi_report)
  --leads N    leads in the synthetic history (default 5000)
  --seed S     the synthetic history's seed (default 42)
  -h, --help   print this text";

struct Args {
    olist: Option<PathBuf>,
    out: PathBuf,
    leads: usize,
    seed: u64,
}

/// What the command line asks for.
enum Command {
    Run(Args),
    Help,
}

fn args(mut it: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut a = Args {
        olist: None,
        out: PathBuf::from("target/kpi_report"),
        leads: 5_000,
        seed: 42,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--olist" => a.olist = Some(PathBuf::from(value()?)),
            "--out" => a.out = PathBuf::from(value()?),
            "--leads" => a.leads = number(&flag, value()?)?,
            "--seed" => a.seed = number(&flag, value()?)?,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Command::Run(a))
}

/// A flag's value as a number.
fn number<T: std::str::FromStr>(flag: &str, value: String) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| format!("{flag} {value}: {e}"))
}

/// Prints the usage for `--help` (exit status 0) or after a bad argument
/// (2); otherwise runs, printing any error as text (never Rust's debug
/// form) with exit status 1.
fn main() -> ExitCode {
    let a = match args(std::env::args().skip(1)) {
        Ok(Command::Run(a)) => a,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &Args) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(&a.out)?;
    match &a.olist {
        Some(dir) => run_olist(dir, &a.out),
        None => run_synthetic(a),
    }
}

/// Items separated by commas, or `none`.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}

/// A number of days, or `-`.
fn days(d: Option<i64>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| d.to_string())
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn pts(p: Option<leadflow::Points>) -> String {
    p.map_or_else(|| "-".to_owned(), |p| p.to_string())
}

fn dur(secs: Option<i64>) -> String {
    match secs {
        None => "-".to_owned(),
        Some(s) if s.abs() >= 86_400 => format!("{:.1}d", s as f64 / 86_400.0),
        Some(s) => format!("{:.1}h", s as f64 / 3_600.0),
    }
}

fn write(out: &Path, name: &str, svg: String) -> Result<(), Box<dyn Error>> {
    let path = out.join(name);
    std::fs::write(&path, svg)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// A stage the lifecycle measured does not have: its KPIs are not zero, they
/// do not exist in this data.
fn absent(label: &str) {
    println!("{label}  not in this data (its lifecycle has no {label} stage)");
}

fn print_kpis(m: &FunnelMetrics) {
    let k = m.kpis();
    println!("\n== Stage KPIs ==");
    println!("leads generated {}", k.mal.leads_generated);
    if !k.has(Stage::Mal) {
        absent("MAL");
    } else {
        println!(
            "MAL  MALs {:>6}  avg fit {:>6}  form completion {:>6}",
            k.mal.mals,
            pts(k.mal.avg_fit),
            pct(k.mal.form_completion_rate)
        );
    }
    if !k.has(Stage::Mql) {
        absent("MQL");
    } else {
        println!(
            "MQL  MQLs {:>6}  MAL→MQL {:>6}  avg engagement {:>6}  downloads {:>5}  webinars {:>5}  content/MQL {:.2}",
            k.mql.mqls,
            pct(k.mql.promotion_rate),
            pts(k.mql.avg_engagement),
            k.mql.downloads,
            k.mql.webinars,
            k.mql.content_per_mql.unwrap_or(0.0)
        );
    }
    if !k.has(Stage::Sgl) {
        absent("SGL");
    } else {
        println!(
            "SGL  SGLs {:>6}  avg fit {:>6}  reaching a deal {:>6}",
            k.sgl.sgls,
            pts(k.sgl.avg_fit),
            pct(k.sgl.deal_rate)
        );
    }
    if !k.has(Stage::Sal) {
        absent("SAL");
    } else {
        println!(
            "SAL  SALs {:>6}  accepted {:>5}  rejected {:>5}  acceptance {:>6}  follow-up median {:>6} p90 {:>6}  →SQL {:>6}  SLA breaches {} (open {})",
            k.sal.sals,
            k.sal.accepted,
            k.sal.rejected,
            pct(k.sal.acceptance_rate),
            dur(k.sal.follow_up_median_secs),
            dur(k.sal.follow_up_p90_secs),
            pct(k.sal.to_sql_rate),
            k.sal.sla_breaches,
            k.sal.sla_open
        );
    }
    let deal: Vec<String> = k.sql.avg_deal_value.values().map(ToString::to_string).collect();
    if !k.has(Stage::Sql) {
        absent("SQL");
    } else {
        println!(
            "SQL  SQLs {:>6}  won {:>5}  lost {:>5}  win rate {:>6}  →customer {:>6}  avg deal {}",
            k.sql.sqls,
            k.sql.won,
            k.sql.lost,
            pct(k.sql.win_rate),
            pct(k.sql.to_customer_rate),
            if deal.is_empty() {
                "-".to_owned()
            } else {
                deal.join(", ")
            }
        );
    }
    println!("\n== Across stages ==");
    println!(
        "MQL→SQL {}  SQL→CSQL {}  MQL→CSQL {}  time to deal median {} p90 {}",
        pct(k.across.mql_to_sql),
        pct(k.across.sql_to_csql),
        pct(k.across.mql_to_csql),
        dur(k.across.time_to_deal_median_secs),
        dur(k.across.time_to_deal_p90_secs)
    );
    if k.across.conversions.is_empty() {
        println!(
            "conversion between consecutive stages: none (no lead entered two consecutive stages of this lifecycle)"
        );
    } else {
        println!(
            "{:<26} {:>7} {:>9} {:>7}",
            "conversion", "leads", "converted", "rate"
        );
    }
    for c in &k.across.conversions {
        println!(
            "{:<26} {:>7} {:>9} {:>6.1}%",
            format!("{} → {}", c.from, c.to),
            c.leads,
            c.converted,
            c.rate * 100.0
        );
    }
    println!(
        "{:<14} {:>7} {:>9} {:>9}",
        "time in stage", "stays", "median", "p90"
    );
    for t in &k.across.time_in_stage {
        println!(
            "{:<14} {:>7} {:>9} {:>9}",
            t.stage.as_str(),
            t.stays,
            dur(Some(t.median_secs)),
            dur(Some(t.p90_secs))
        );
    }
    println!(
        "recycled {}  disqualified {}  rejected {}  lost {}",
        k.across.recycled, k.across.disqualified, k.across.rejected, k.across.lost
    );
    for (kind, codes) in &k.across.reasons {
        let list: Vec<String> = codes.iter().map(|(c, n)| format!("{} {n}", c.as_str())).collect();
        println!("  {kind:<11} {}", list.join(", "));
    }
    let sla: Vec<String> = k
        .across
        .sla_breaches
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    println!(
        "SLA breaches by stage: {}",
        if sla.is_empty() {
            "none".to_owned()
        } else {
            sla.join(", ")
        }
    );
}

fn print_breakdown(a: &FunnelAnalysis, b: &Breakdown) {
    let Some(table) = a.by(b) else { return };
    println!("\n== By {} ==", b.name());
    println!(
        "{:<18} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9}",
        "key", "leads", "MQLs", "SQLs", "won", "MQL→SQL", "win rate"
    );
    for (key, m) in table {
        let k = m.kpis();
        println!(
            "{:<18} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9}",
            key,
            m.created,
            k.mql.mqls,
            k.sql.sqls,
            m.stage(Stage::Customer).leads,
            pct(k.across.mql_to_sql),
            pct(k.sql.win_rate)
        );
    }
}

fn funnel_bars(m: &FunnelMetrics, stages: &[Stage]) -> Vec<Bar> {
    stages
        .iter()
        .map(|s| {
            let n = m.stage(*s).leads;
            Bar {
                label: s.as_str().to_owned(),
                value: n as f64,
                text: n.to_string(),
            }
        })
        .collect()
}

fn conversion_bars(table: &IndexMap<String, FunnelMetrics>, from: Stage, to: Stage) -> Vec<Bar> {
    table
        .iter()
        .filter_map(|(k, m)| {
            let rate = m.conversion(from, to)?;
            Some(Bar {
                label: k.clone(),
                value: rate,
                text: format!("{:.1}% of {}", rate * 100.0, m.stage(from).leads),
            })
        })
        .collect()
}

fn run_synthetic(a: &Args) -> Result<(), Box<dyn Error>> {
    let machine = synth::machine()?;
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let s = synth::generate(&machine, a.seed, a.leads, start)?;
    let as_of = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    println!(
        "synthetic history: {} leads, {} transition records, seed {}, as of {as_of}",
        s.leads.len(),
        s.records(),
        a.seed
    );
    let histories = || {
        (0..s.leads.len()).map(|i| {
            LeadHistory::new(&s.leads[i], &s.lives[i])
                .with_events(&s.events[i])
                .with_scores(&s.scores[i])
        })
    };
    let analysis = FunnelAnalyzer::new(&machine, AnalysisConfig::new(as_of)).analyze(histories());
    let o = &analysis.overall;
    println!("\n{:<14} {:>7} {:>8}", "stage", "leads", "entries");
    for stage in Stage::ALL {
        println!(
            "{:<14} {:>7} {:>8}",
            stage.as_str(),
            o.stage(stage).leads,
            o.stage(stage).entries
        );
    }
    print_kpis(o);
    for b in Breakdown::standard() {
        print_breakdown(&analysis, &b);
    }

    // Account view.
    let model = AccountModel::standard();
    model.validate()?;
    let views = (0..s.leads.len()).map(|i| {
        LeadView::new(&s.leads[i])
            .with_events(&s.events[i])
            .with_scores(&s.scores[i])
    });
    let accounts = model.roll_up_all(views, as_of);
    let mqa = accounts.values().filter(|r| r.is_mqa()).count();
    let mut coverage: BTreeMap<&str, usize> = BTreeMap::new();
    for r in accounts.values() {
        for (role, c) in &r.coverage {
            if c.is_engaged() {
                *coverage.entry(role.as_str()).or_default() += 1;
            }
        }
    }
    let coverage: Vec<String> = coverage.iter().map(|(role, n)| format!("{role} {n}")).collect();
    println!("\n== Accounts (roll-up: {}) ==", model.rollup);
    println!(
        "{} accounts, {} marketing qualified; accounts with each role engaged: {}",
        accounts.len(),
        mqa,
        list(&coverage)
    );
    let mut top: Vec<_> = accounts.values().collect();
    top.sort_by(|x, y| {
        y.scores
            .combined
            .cmp(&x.scores.combined)
            .then(x.account.cmp(&y.account))
    });
    for r in top.iter().take(5) {
        println!(
            "  {:<10} score {:>6}  leads {:>2} (engaged {:>2})  MQA {:<3}  missing roles: {}",
            r.account.as_str(),
            r.scores.combined.to_string(),
            r.leads,
            r.engaged_leads,
            if r.is_mqa() { "yes" } else { "no" },
            list(&r.missing_roles())
        );
    }

    // CSQL.
    let flagged: Vec<_> = s
        .lives
        .iter()
        .flat_map(|l| l.history())
        .filter(|r| r.transition.kind() == TransitionKind::FlagForExpansion)
        .collect();
    println!(
        "\n== CSQL ==\n{} customers flagged for expansion (of {})",
        flagged.len(),
        o.stage(Stage::Customer).leads
    );
    if let Some(evidence) = flagged.first().and_then(|r| csql_evidence(r)) {
        print!("evidence of {}:\n{evidence}", flagged[0].lead);
    }

    let main_path = [
        Stage::Lead,
        Stage::Mal,
        Stage::Mql,
        Stage::Sal,
        Stage::Sql,
        Stage::Opportunity,
        Stage::Customer,
        Stage::Csql,
    ];
    write(
        &a.out,
        "funnel.svg",
        bar_chart(
            "Synthetic funnel: leads entering each stage",
            &funnel_bars(o, &main_path),
            true,
        ),
    )?;
    if let Some(t) = analysis.by(&Breakdown::Channel) {
        write(
            &a.out,
            "conversion_by_source.svg",
            bar_chart(
                "MQL → Customer by channel",
                &conversion_bars(t, Stage::Mql, Stage::Customer),
                false,
            ),
        )?;
    }
    let k = o.kpis();
    println!(
        "{}",
        serde_json::json!({
            "leads": s.leads.len(), "records": s.records(), "mqls": k.mql.mqls, "sqls": k.sql.sqls,
            "won": o.stage(Stage::Customer).leads, "csqls": o.stage(Stage::Csql).leads,
            "mql_to_sql_rate": k.across.mql_to_sql, "accounts": accounts.len(), "mqas": mqa,
        })
    );
    Ok(())
}

fn run_olist(dir: &Path, out: &Path) -> Result<(), Box<dyn Error>> {
    let data = olist::load(dir)?;
    let analysis = olist::analyze(&data);
    let summary = olist::summary(&analysis);
    println!(
        "Olist marketing funnel: {} MQLs, {} won",
        summary.mqls, summary.won
    );

    println!("\n== MQLs and wins by origin ==");
    println!("{:<18} {:>6} {:>6} {:>8}", "origin", "MQLs", "won", "rate");
    for (k, g) in &summary.by_origin {
        println!("{:<18} {:>6} {:>6} {:>7.2}%", k, g.mqls, g.won, g.rate * 100.0);
    }
    println!("\n== MQLs and wins by month of first contact ==");
    println!("{:<8} {:>6} {:>6} {:>8}", "month", "MQLs", "won", "rate");
    if let Some(t) = analysis.by(&Breakdown::Cohort) {
        for (k, m) in t {
            let g = olist::Group::of(m);
            println!("{:<8} {:>6} {:>6} {:>7.2}%", k, g.mqls, g.won, g.rate * 100.0);
        }
    }
    // Origin × month: MQL counts.
    let mut cross: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut months: Vec<String> = Vec::new();
    for lead in &data.leads {
        let month = lead.created_at.format("%Y-%m").to_string();
        let origin = lead
            .attribute("origin")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "(none)".into());
        if !months.contains(&month) {
            months.push(month.clone());
        }
        *cross.entry((origin, month)).or_default() += 1;
    }
    months.sort();
    println!("\n== MQLs by origin and month ==");
    print!("{:<16}", "origin");
    for m in &months {
        print!(" {:>7}", m);
    }
    println!();
    for origin in summary.by_origin.keys() {
        print!("{origin:<16}");
        for m in &months {
            print!(
                " {:>7}",
                cross.get(&(origin.clone(), m.clone())).copied().unwrap_or(0)
            );
        }
        println!();
    }
    println!("\n== Conversion and time to deal ==");
    println!(
        "MQL → won {:.2}%  days to won: median {}, p90 {} (calendar days, nearest rank; one deal at -2 days kept)",
        summary.mql_to_won_rate * 100.0,
        days(summary.median_days_to_won),
        days(summary.p90_days_to_won)
    );
    print_kpis(&analysis.overall);

    write(
        out,
        "olist_funnel.svg",
        bar_chart(
            "Olist: MQLs → won",
            &funnel_bars(&analysis.overall, &[Stage::Mql, Stage::Customer]),
            true,
        ),
    )?;
    if let Some(t) = analysis.by(&olist::origin()) {
        write(
            out,
            "olist_conversion_by_origin.svg",
            bar_chart(
                "Olist: MQL → won by origin",
                &conversion_bars(t, Stage::Mql, Stage::Customer),
                false,
            ),
        )?;
    }
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}
