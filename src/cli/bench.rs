//! `rlhf-lab bench rm|strength|ppo`: fixed workloads, one JSON object on stdout with the figures,
//! the backend, the build profile, the threads and the process's peak memory.
use clap::Subcommand;
use serde::Serialize;

use crate::compute::{self, BackendChoice, Compute};
use crate::experiment::ppo::bench::run_ppo_bench;
use crate::experiment::ppo::config::PolicyKind;
use crate::experiment::rm::bench::{RmBenchSpec, run_rm_bench};
use crate::experiment::strength::bench::run_strength_bench;
use crate::experiment::{DataSource, Run, StrengthConfig};

#[derive(Subcommand, Debug)]
pub(crate) enum BenchWorkload {
    /// RM-bench: d_model 128, 4 layers, seq 128, 32 pairs per step.
    Rm {
        /// Compute backend: auto, gpu or cpu.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Timed steps (at least 20 for reported figures).
        #[arg(long, default_value_t = 20)]
        steps: usize,
    },
    /// The default synthetic strength run (M = 10 bag-of-words members, band retraining),
    /// timed by stage.
    Strength {
        /// Compute backend: auto, gpu or cpu.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Ensemble size M (default: the strength run's 10).
        #[arg(long)]
        models: Option<usize>,
        /// Synthetic pairs (default: the strength run's world).
        #[arg(long)]
        pairs: Option<usize>,
        /// Skip band-alone retraining (time the ensemble only).
        #[arg(long)]
        no_band_retrain: bool,
        /// Train the members one after another, not stacked (the comparison).
        #[arg(long)]
        sequential_members: bool,
    },
    /// A short PPO run of `ppo`'s default synthetic world: set-up, then iterations split into
    /// update and rollout.
    Ppo {
        /// Compute backend: auto, gpu or cpu.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// The policy: factorised or transformer.
        #[arg(long, default_value = "transformer")]
        policy: PolicyKind,
        /// PPO iterations timed.
        #[arg(long, default_value_t = 20)]
        steps: usize,
    },
}

/// Where a figure was measured.
#[derive(Serialize)]
struct Host {
    /// `release` or `debug` (figures are only comparable in release).
    profile: &'static str,
    /// CPUs this process may use (the CPU backend's thread pools size themselves from it
    /// unless `RAYON_NUM_THREADS` says otherwise).
    threads: usize,
    /// `RAYON_NUM_THREADS`, when set.
    rayon_num_threads: Option<String>,
    /// Peak resident memory of the process (MiB; Linux only).
    peak_rss_mib: Option<f64>,
}

impl Host {
    fn now() -> Self {
        Self {
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            rayon_num_threads: std::env::var("RAYON_NUM_THREADS").ok(),
            peak_rss_mib: peak_rss_mib(),
        }
    }
}

/// `VmHWM` of `/proc/self/status`: the process's peak resident set.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The figures with the host's fields beside them, as one pretty JSON object.
fn print_with_host<T: Serialize>(result: &T) -> Result<(), String> {
    let mut value = serde_json::to_value(result).map_err(|e| e.to_string())?;
    let host = serde_json::to_value(Host::now()).map_err(|e| e.to_string())?;
    if let (Some(fields), Some(host)) = (value.as_object_mut(), host.as_object()) {
        for (k, v) in host {
            fields.insert(k.clone(), v.clone());
        }
    }
    let json = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}

fn compute_for(backend: BackendChoice) -> Result<Compute, String> {
    let (compute, _setup) = compute::init(backend).map_err(|e| e.to_string())?;
    if let Some(n) = &compute.notice {
        eprintln!("notice: {n}");
    }
    Ok(compute)
}

/// Run one workload.
pub(crate) fn run_bench(workload: BenchWorkload) -> Result<(), String> {
    match workload {
        BenchWorkload::Rm { backend, steps } => {
            let compute = compute_for(backend)?;
            let spec = RmBenchSpec {
                timed_steps: steps.max(1),
                ..Default::default()
            };
            let result =
                pollster::block_on(run_rm_bench(&compute, &spec)).map_err(|e| e.to_string())?;
            print_with_host(&result)
        }
        BenchWorkload::Strength {
            backend,
            models,
            pairs,
            no_band_retrain,
            sequential_members,
        } => {
            let compute = compute_for(backend)?;
            let mut run = Run::<StrengthConfig> {
                backend,
                ..Run::default()
            };
            if let Some(m) = models {
                run.experiment.models = m;
            }
            if let (Some(n), DataSource::Synthetic(world)) = (pairs, &mut run.data.source) {
                world.pairs = n;
            }
            if no_band_retrain {
                run.experiment.band_retrain = false;
            }
            if sequential_members {
                run.experiment.stacked = false;
            }
            run.validate().map_err(|e| format!("invalid config: {e}"))?;
            let result =
                pollster::block_on(run_strength_bench(&compute, run)).map_err(|e| e.to_string())?;
            print_with_host(&result)
        }
        BenchWorkload::Ppo {
            backend,
            policy,
            steps,
        } => {
            let compute = compute_for(backend)?;
            let mut run: crate::experiment::Run<crate::experiment::ppo::PpoConfig> =
                super::ppo::default_run();
            run.backend = backend;
            run.experiment.policy = policy;
            run.experiment.steps = steps.max(1);
            run.validate().map_err(|e| format!("invalid config: {e}"))?;
            let result =
                pollster::block_on(run_ppo_bench(&compute, run)).map_err(|e| e.to_string())?;
            print_with_host(&result)
        }
    }
}
