//! "Look at the data": a few pairs of the data the tab trains on — prompt, chosen and rejected
//! answers, and in the synthetic world their gold rewards and whether the label agrees — with a
//! button for other pairs. Loaded when opened, and again when the data settings change.
use super::Shell;
use super::strength_charts::short;
use crate::data::PreferencePair;
use crate::experiment::prepare::load_pairs;

/// Pairs shown at once.
const SHOWN: usize = 5;

/// What the data view holds.
#[derive(Default)]
pub struct DataView {
    /// The data settings the pairs were loaded with (JSON), and the pairs or why not.
    loaded: Option<(String, Result<Vec<PreferencePair>, String>)>,
    /// Which draw of pairs is shown.
    draw: u64,
}

impl DataView {
    /// The positions of draw `draw` among `n` pairs: `SHOWN` distinct ones, spread by a fixed
    /// stride from a start that moves with the draw.
    pub fn positions(n: usize, draw: u64) -> Vec<usize> {
        if n == 0 {
            return Vec::new();
        }
        let start = (draw.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as usize % n;
        let stride = (n / SHOWN).max(1);
        let mut out: Vec<usize> = (0..SHOWN.min(n))
            .map(|k| (start + k * stride) % n)
            .collect();
        out.dedup();
        out
    }

    fn load(&mut self, shell: &Shell) {
        let key = serde_json::to_string(&shell.run.data).unwrap_or_default();
        if self.loaded.as_ref().is_some_and(|(k, _)| *k == key) {
            return;
        }
        let pairs = load_pairs(&shell.run.data, shell.upload.as_ref())
            .map(|(pairs, _)| pairs)
            .map_err(|e| e.to_string());
        self.loaded = Some((key, pairs));
    }
}

/// The "Look at the data" section.
pub fn data_ui(view: &mut DataView, shell: &Shell, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("Look at the data")
        .id_salt("data_view")
        .default_open(false)
        .show(ui, |ui| {
            view.load(shell);
            let Some((_, loaded)) = &view.loaded else {
                return;
            };
            let pairs = match loaded {
                Ok(p) => p,
                Err(e) => {
                    ui.colored_label(super::plot_style::ERROR, format!("the data could not be read: {e}"));
                    return;
                }
            };
            ui.horizontal_wrapped(|ui| {
                ui.label(format!(
                    "{} pairs. A person (here: the simulated labeller) preferred the chosen answer.",
                    pairs.len()
                ));
                if ui.button("Show other pairs").clicked() {
                    view.draw += 1;
                }
            });
            let gold = pairs.iter().any(|p| p.truth.is_some());
            egui::Grid::new("data_pairs").striped(true).show(ui, |ui| {
                for h in ["#", "prompt (end)", "chosen", "rejected"] {
                    ui.strong(h);
                }
                if gold {
                    ui.strong("gold reward: chosen | rejected")
                        .on_hover_text("The synthetic world's true reward of each answer; a label that disagrees with it is noise");
                }
                ui.end_row();
                for p in DataView::positions(pairs.len(), view.draw) {
                    let pair = &pairs[p];
                    ui.label(pair.index.to_string());
                    let tail: String = {
                        let chars: Vec<char> = pair.prompt.chars().collect();
                        chars[chars.len().saturating_sub(40)..].iter().collect()
                    };
                    ui.label(short(&tail, 40)).on_hover_text(&pair.prompt);
                    ui.label(short(&pair.chosen, 50)).on_hover_text(&pair.chosen);
                    ui.label(short(&pair.rejected, 50)).on_hover_text(&pair.rejected);
                    if let Some(t) = &pair.truth {
                        let verdict = if t.label_is_gold_correct() {
                            "agrees"
                        } else if t.flipped {
                            "wrong: flipped on purpose"
                        } else {
                            "wrong: a close call"
                        };
                        ui.label(format!(
                            "{:.2} | {:.2} ({verdict})",
                            t.gold_chosen, t.gold_rejected
                        ));
                    }
                    ui.end_row();
                }
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_draw_shows_distinct_pairs_and_draws_differ() {
        let a = DataView::positions(4000, 0);
        let b = DataView::positions(4000, 1);
        assert_eq!(a.len(), SHOWN);
        assert_ne!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), SHOWN, "distinct");
        assert!(a.iter().all(|&p| p < 4000));
        assert_eq!(DataView::positions(3, 7).len(), 3);
        assert!(DataView::positions(0, 0).is_empty());
    }
}
