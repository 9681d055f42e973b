//! The backtest example's CSV loader on mutated tables: numbers, codes,
//! text, missing markers, dates, a target with gaps, then bytes flipped,
//! cut, repeated and misplaced. A table loads or is refused with an error;
//! what loads is consistent: the rows left out for a missing target and the
//! rows kept add up to the table, converted rows are among the kept, dates
//! (with `--date`) one per kept row, the split covers every row once.

use leadflow::tuning::SplitMix64;

use crate::Finding;
use crate::mutate::mutate;

fn table(rng: &mut SplitMix64) -> (String, usize) {
    let rows = 5 + rng.below(60) as usize;
    let mut csv = String::from("id,visits,browser,country,score,signup,Converted\n");
    for i in 0..rows {
        let country = ["br", "de", "NA", "", "us", "fr"][rng.below(6) as usize];
        let target = ["1", "0", "0", "", "NA", "yes"][rng.below(6) as usize];
        let score = match rng.below(4) {
            0 => format!("{}", rng.next_f64() * 100.0),
            1 => "nan".into(),
            2 => format!("{}", rng.below(10)),
            _ => format!("-{}e{}", rng.below(9), rng.below(400)),
        };
        let day = 1 + rng.below(28);
        csv.push_str(&format!(
            "L{i},{},{},{country},{score},2026-02-{day:02},{target}\n",
            rng.below(40),
            1 + rng.below(6)
        ));
    }
    (csv, rows)
}

/// Where a case's table is written for the loader, which reads a path: in
/// memory (`/dev/shm`) where there is one. On a disk, rewriting the same
/// file each case waits for the disk (ext4 writes a truncated and rewritten
/// file back at its close): ten times the case's own time.
fn table_path() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("leadflow-fuzz-{}.csv", std::process::id()))
    })
    .clone()
}

pub(crate) fn case(seed: u64) -> Result<(), Finding> {
    let mut rng = SplitMix64::new(seed);
    let (csv, _) = table(&mut rng);
    let mut bytes = csv.into_bytes();
    let mutated = rng.below(4) != 0;
    if mutated {
        mutate(&mut rng, &mut bytes);
    }
    let path = table_path();
    std::fs::write(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut argv = vec![
        "--csv".to_owned(),
        path.display().to_string(),
        "--target".into(),
        "Converted".into(),
        "--positive".into(),
        "1".into(),
    ];
    if rng.below(2) == 0 {
        argv.extend(["--id".into(), "id".into()]);
    }
    let dated = rng.below(2) == 0;
    if dated {
        argv.extend(["--date".into(), "signup".into()]);
        if rng.below(2) == 0 {
            argv.extend(["--split".into(), "temporal".into()]);
        }
    }
    let args = crate::args::parse(argv).map_err(|e| format!("arguments refused: {e}"))?;
    let loaded = match crate::data::load(&args) {
        Ok(l) => l,
        // A malformed table is refused: fine for mutated bytes, a finding
        // for a generated table.
        Err(e) if mutated => {
            let _ = e.to_string();
            return Ok(());
        }
        // Every target missing: nothing to learn from, refused.
        Err(e) if e.to_string().starts_with("no row of") => return Ok(()),
        Err(e) => return Err(format!("a generated table is refused: {e}")),
    };
    let data = &loaded.data;
    if data.positives() > data.len() {
        return Err("more converted rows than rows".into());
    }
    if let Some(dates) = &loaded.dates {
        if dates.len() != data.len() {
            return Err(format!("{} dates for {} rows", dates.len(), data.len()));
        }
    }
    if !mutated {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let table_rows = text.lines().count() - 1;
        if data.len() + loaded.no_target.len() != table_rows {
            return Err(format!(
                "{} rows kept and {} left out of {table_rows}",
                data.len(),
                loaded.no_target.len()
            ));
        }
    }
    match crate::data::split(&args, &loaded) {
        Ok((train, test)) => {
            let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
            all.sort_unstable();
            if all != (0..data.len()).collect::<Vec<_>>() {
                return Err(format!(
                    "the split does not cover each of {} rows once",
                    data.len()
                ));
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    Ok(())
}
