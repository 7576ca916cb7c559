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

pub use super::kinds::{KindEvent, Phase};
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
