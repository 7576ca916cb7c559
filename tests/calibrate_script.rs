//! `scripts/calibrate.sh` itself: a group runs, its rows and wall time are written as it finishes,
//! and a group that does not exist is refused. The real groups are minutes each (the calibration
//! tier); `selftest` is a one-second stand-in.
use std::process::Command;

/// The stand-in group's one check: prints a row as the real checks do.
#[test]
#[ignore = "the stand-in group of scripts/calibrate.sh (run through it)"]
fn calibrate_stand_in_group() {
    let values = [1.0_f64, 2.0, 3.0];
    let mean = values.iter().sum::<f64>() / 3.0;
    println!("| stand-in | {mean:.3} ± 0 | 1:1 2:2 3:3 |");
    assert_eq!(mean, 2.0);
}

fn calibrate(args: &[&str]) -> std::process::Output {
    let mut c = Command::new("bash");
    c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/calibrate.sh"))
        .args(args);
    // The script starts a nextest run of its own: not as a part of this one.
    for (key, _) in std::env::vars() {
        if key.starts_with("NEXTEST") {
            c.env_remove(key);
        }
    }
    c.output().unwrap()
}

#[test]
fn a_group_runs_and_its_table_and_time_are_written() {
    let out = std::env::temp_dir().join(format!("rlhf-lab-calibrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // A group run at an earlier sitting keeps its rows.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("table-ps.md"), "| earlier | 1 ± 0 | 1:1 |\n").unwrap();
    std::fs::write(out.join("time-ps.md"), "| ps | 91 | 0 |\n").unwrap();
    let o = calibrate(&["--only", "selftest", "--out", out.to_str().unwrap()]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{log}");
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert_eq!(
        table.trim(),
        "| earlier | 1 ± 0 | 1:1 |\n| stand-in | 2.000 ± 0 | 1:1 2:2 3:3 |",
        "{log}"
    );
    let times = std::fs::read_to_string(out.join("times.md")).unwrap();
    let row = times
        .lines()
        .find(|l| l.starts_with("| selftest |"))
        .unwrap_or_else(|| panic!("{times}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(
        cells[2].parse::<u64>().is_ok(),
        "wall time in seconds: {row}"
    );
    assert_eq!(cells[3], "0", "nextest's exit status: {row}");
    assert!(times.contains("| ps | 91 | 0 |"), "{times}");
    assert!(log.contains("== group selftest: "), "{log}");
}

#[test]
fn an_unknown_group_is_refused_before_anything_runs() {
    let o = calibrate(&["--only", "ps,nope"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown group 'nope': use ps lb hh cl oo pm mr"),
        "{err}"
    );
    let o = calibrate(&["--bogus"]);
    assert_eq!(o.status.code(), Some(2));
}
