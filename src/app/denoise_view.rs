//! What the Denoising panel shows, folded from events (no egui here).
use super::strength_view::JobProgress;
use crate::experiment::denoise::DenoiseEvent;
use crate::experiment::denoise::{DenoiseReport, Method, MethodRun};
use crate::experiment::{Event, KindEvent, Phase, RmEvent, StrengthEvent};

/// The panel's state.
#[derive(Clone, Debug, Default)]
pub struct DenoiseView {
    /// Ensemble members done / size (the μ phase).
    pub members: (usize, usize),
    /// Current run.
    pub progress: JobProgress,
    /// Live validation curve of the current run, `(method label, points)`.
    pub live: Vec<(String, Vec<[f64; 2]>)>,
    /// Finished runs.
    pub runs: Vec<MethodRun>,
    /// The final report.
    pub report: Option<DenoiseReport>,
}

impl DenoiseView {
    /// Fold one event in.
    pub fn apply(&mut self, event: &Event) {
        if let Some(inner) = self.progress.apply(event) {
            let is_method = matches!(self.progress.phase, Some(Phase::Method { .. }));
            if let (
                Event::Kind(KindEvent::Rm(RmEvent::Eval {
                    step,
                    validation_accuracy,
                    ..
                })),
                true,
            ) = (inner, is_method)
            {
                let label = self.progress.label.clone();
                match self.live.last_mut() {
                    Some((l, pts)) if *l == label => {
                        pts.push([*step as f64, f64::from(*validation_accuracy)]);
                    }
                    _ => self
                        .live
                        .push((label, vec![[*step as f64, f64::from(*validation_accuracy)]])),
                }
            }
            return;
        }
        match event.kind() {
            Some(KindEvent::Strength(StrengthEvent::Update {
                members, models, ..
            })) => self.members = (*members, *models),
            Some(KindEvent::Denoise(DenoiseEvent::MethodDone { run })) => {
                self.runs.push(run.clone());
            }
            Some(KindEvent::Denoise(DenoiseEvent::Done { report })) => {
                self.report = Some(report.as_ref().clone());
            }
            _ => {}
        }
    }

    /// Methods in the order their first run finished, with their accuracies per seed.
    pub fn by_method(&self) -> Vec<(Method, Vec<f32>)> {
        let mut out: Vec<(Method, Vec<f32>)> = Vec::new();
        for r in &self.runs {
            match out.iter_mut().find(|(m, _)| *m == r.method) {
                Some((_, v)) => v.push(r.validation_accuracy),
                None => out.push((r.method, vec![r.validation_accuracy])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_groups_runs_by_method_and_tracks_live_curves() {
        let mut v = DenoiseView::default();
        let run = |method, seed, acc| -> Event {
            DenoiseEvent::MethodDone {
                run: MethodRun {
                    method,
                    seed,
                    validation_accuracy: acc,
                    train_loss: None,
                    curve: vec![],
                },
            }
            .into()
        };
        v.apply(&run(Method::Baseline, 0, 0.8));
        v.apply(&run(Method::Flip, 0, 0.9));
        v.apply(&run(Method::Baseline, 1, 0.7));
        assert_eq!(
            v.by_method(),
            vec![
                (Method::Baseline, vec![0.8, 0.7]),
                (Method::Flip, vec![0.9])
            ]
        );
        v.apply(&Event::Job {
            job: 0,
            jobs: 2,
            phase: Phase::Method {
                method: Method::Flip,
                seed: 0,
            },
            inner: Box::new(
                RmEvent::Eval {
                    step: 5,
                    validation_accuracy: 0.6,
                    validation_label_accuracy: 0.6,
                    validation_loss: 0.6,
                    chosen_rewards: vec![],
                    rejected_rewards: vec![],
                }
                .into(),
            ),
        });
        assert_eq!(v.live.len(), 1);
        assert_eq!(v.live[0].0, "flip · seed 1");
    }
}
