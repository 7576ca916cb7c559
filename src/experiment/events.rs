//! Typed events: the one stream that feeds the UI's charts, the CLI's JSON lines and the tests.
//!
//! Two layers. The run lifecycle — [`Event::Started`], [`Event::Progress`], [`Event::Notice`],
//! [`Event::Error`], [`Event::Finished`] and [`Event::Job`] (an event of one run inside a
//! multi-run experiment, with its typed [`Phase`]) — is what every consumer understands. Each
//! experiment's own payload travels as [`Event::Kind`] and only its views read it.
//!
//! As JSON lines: `{"event":"started",…}`, `{"event":"progress","done":3,"total":600}`,
//! `{"event":"job","job":0,"jobs":10,"phase":{"phase":"member","member":0,"fold":null},"inner":{…}}`,
//! and payloads as `{"event":"rm","rm":"step",…}` (kind, then the kind's own tag).
use serde::{Deserialize, Serialize};

use super::KindEvent;
use super::denoise::Method;
use crate::compute::Compute;

/// Something a runner reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run is set up and about to take its first step.
    Started {
        /// `wgpu` or `flex`.
        backend: String,
        /// Adapter description.
        adapter: String,
        /// Why the backend differs from the request, if it does.
        notice: Option<String>,
        /// Units of work planned (optimizer steps over all jobs).
        total_steps: usize,
    },
    /// Work done so far, after a step (the drivers add it; see [`super::runner::step_reported`]).
    Progress {
        /// Units done.
        done: usize,
        /// Units planned.
        total: usize,
    },
    /// Something the user should see (not an error).
    Notice {
        /// The text.
        message: String,
    },
    /// The run stopped on an error; everything before it stays valid.
    Error {
        /// What went wrong and how to fix it.
        message: String,
    },
    /// The run finished all its work.
    Finished {
        /// Seconds of training.
        wall_time_s: f64,
        /// One line of `key=value` results (what a status bar shows).
        summary: String,
    },
    /// An event of one run inside a multi-run experiment (ensemble member, band, method).
    Job {
        /// 0-based run index.
        job: usize,
        /// Runs in this phase.
        jobs: usize,
        /// What the run is.
        phase: Phase,
        /// What the run reported.
        inner: Box<Event>,
    },
    /// An experiment's own payload.
    #[serde(untagged)]
    Kind(KindEvent),
}

impl Event {
    /// The lifecycle's first event for a run on `compute` that plans `total_steps` units.
    pub fn started(compute: &Compute, total_steps: usize) -> Self {
        Self::Started {
            backend: compute.backend_name().into(),
            adapter: compute.adapter.clone(),
            notice: compute.notice.clone(),
            total_steps,
        }
    }

    /// A run's closing payload (its report), then the lifecycle's `Finished` with `summary`.
    pub fn closing(done: impl Into<Event>, wall_time_s: f64, summary: String) -> [Event; 2] {
        [
            done.into(),
            Self::Finished {
                wall_time_s,
                summary,
            },
        ]
    }

    /// The payload of a `Kind` event.
    pub fn kind(&self) -> Option<&KindEvent> {
        match self {
            Self::Kind(k) => Some(k),
            _ => None,
        }
    }
}

/// What one run inside a multi-run experiment is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// An ensemble member (0-based), with its fold when cross-fitted.
    Member {
        /// Member index.
        member: usize,
        /// Fold index (cross-fitting only).
        fold: Option<usize>,
    },
    /// Several runs trained together as stacked models (their steps and start; each run's
    /// own evaluations and results carry its own phase).
    Stacked {
        /// How many runs.
        runs: usize,
        /// What they are, plural ("members", "bands").
        of: String,
    },
    /// A band-alone retraining run (0-based band, 0 = lowest μ).
    Band {
        /// Band index.
        band: usize,
        /// Number of bands.
        bands: usize,
    },
    /// A stage of a pipeline (0-based), named.
    Stage {
        /// Stage index.
        stage: usize,
        /// What the stage is ("strength", "denoise", later "sft", "ppo").
        name: String,
    },
    /// A denoising method run.
    Method {
        /// The method.
        method: Method,
        /// Its seed (0-based).
        seed: usize,
    },
}

impl Phase {
    /// How the UI and logs name the run ("member 3 / fold 2", "band 4/10", "flip · seed 1").
    pub fn label(&self) -> String {
        match self {
            Self::Member { member, fold: None } => format!("member {}", member + 1),
            Self::Member {
                member,
                fold: Some(f),
            } => format!("member {} / fold {}", member + 1, f + 1),
            Self::Stacked { runs, of } => format!("{runs} {of} trained together"),
            Self::Band { band, bands } => format!("band {}/{bands}", band + 1),
            Self::Stage { stage, name } => format!("stage {}: {name}", stage + 1),
            Self::Method { method, seed } => format!("{} · seed {}", method.name(), seed + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::RmEvent;

    #[test]
    fn events_round_trip_as_lifecycle_and_kind_payloads() {
        let step: Event = RmEvent::Step {
            step: 3,
            loss: 0.5,
            train_accuracy: 0.75,
            lr: 1e-3,
            contrastive_loss: None,
            difference_loss: None,
        }
        .into();
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["event"], "rm");
        assert_eq!(json["rm"], "step");
        assert_eq!(json["step"], 3);
        let job = Event::Job {
            job: 1,
            jobs: 4,
            phase: Phase::Method {
                method: Method::Flip,
                seed: 0,
            },
            inner: Box::new(step.clone()),
        };
        let progress = Event::Progress { done: 2, total: 9 };
        for e in [step, job, progress] {
            let text = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e, "{text}");
        }
        assert_eq!(
            Phase::Member {
                member: 2,
                fold: Some(0)
            }
            .label(),
            "member 3 / fold 1"
        );
    }
}
