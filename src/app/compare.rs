//! Earlier runs kept for comparison (the last few of a tab): each named after its settings,
//! toggled by a checkbox, drawn in its own colour beside the run in progress.
use super::plot_style::palette;

/// Runs a tab keeps.
pub const KEPT: usize = 5;

/// One earlier run: its name, what its charts drew, whether it is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Earlier<T> {
    /// Its name in legends ("run 2: SimCSE (β 1), seed 0").
    pub label: String,
    /// What it drew.
    pub data: T,
    /// Whether it is drawn.
    pub shown: bool,
}

/// A tab's earlier runs and the name of the run in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Compare<T> {
    /// The runs kept, oldest first.
    pub runs: Vec<Earlier<T>>,
    /// Runs started so far (numbers the names).
    pub started: usize,
    /// The name of the run in progress (or the last one).
    pub current: String,
}

impl<T> Default for Compare<T> {
    fn default() -> Self {
        Self {
            runs: Vec::new(),
            started: 0,
            current: String::new(),
        }
    }
}

impl<T> Compare<T> {
    /// A run starts: keep what the last one drew (if it drew anything) under its name, and
    /// name the new one "run N: `what`"; returns that name.
    pub fn start(&mut self, last: Option<T>, what: &str) -> String {
        if let Some(data) = last {
            self.runs.push(Earlier {
                label: std::mem::take(&mut self.current),
                data,
                shown: true,
            });
            let extra = self.runs.len().saturating_sub(KEPT);
            self.runs.drain(..extra);
        }
        self.started += 1;
        self.current = format!("run {}: {what}", self.started);
        self.current.clone()
    }

    /// The colour of the `i`-th kept run (dark to light, oldest first).
    pub fn color(&self, i: usize) -> egui::Color32 {
        palette::sequential(i, self.runs.len().max(2)).gamma_multiply(0.8)
    }

    /// The runs drawn, with their colours.
    pub fn shown(&self) -> Vec<(&Earlier<T>, egui::Color32)> {
        self.runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.shown)
            .map(|(i, r)| (r, self.color(i)))
            .collect()
    }

    /// A checkbox per kept run ("earlier runs: ☑ run 1 … ☐ run 2 …"); nothing when none.
    pub fn toggles_ui(&mut self, ui: &mut egui::Ui) {
        if self.runs.is_empty() {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("earlier runs:").on_hover_text(
                "The last runs of this tab, kept to compare with this one: tick to draw them",
            );
            for run in &mut self.runs {
                ui.checkbox(&mut run.shown, run.label.as_str());
            }
        });
    }
}

/// The data of `shell`'s runs in a few words, for run names ("2500 pairs, flip 0.1", or the
/// file).
pub fn data_words(shell: &super::Shell) -> String {
    use crate::experiment::DataSource;
    match &shell.run.data.source {
        DataSource::Synthetic(w) => format!("{} pairs, flip {}", w.pairs, w.flip_rate),
        other => other.label(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_runs_are_kept_under_their_names() {
        let mut c = Compare::<u32>::default();
        assert_eq!(c.start(None, "a"), "run 1: a");
        assert_eq!(c.start(Some(10), "b"), "run 2: b");
        assert_eq!(c.runs[0].label, "run 1: a");
        // A run that drew nothing is not kept.
        assert_eq!(c.start(None, "c"), "run 3: c");
        assert_eq!(c.runs.len(), 1);
        for i in 4..=10 {
            c.start(Some(i), "d");
        }
        assert_eq!(c.runs.len(), KEPT);
        assert_eq!(c.runs[0].data, 6, "the oldest dropped");
        c.runs[1].shown = false;
        assert_eq!(c.shown().len(), KEPT - 1);
    }
}
