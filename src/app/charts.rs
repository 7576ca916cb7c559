//! Charts of a reward-model run: loss and accuracy curves, reward histograms.
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};

use super::history::{FeatureView, RunHistory, histogram_pair};

const CHOSEN: egui::Color32 = egui::Color32::from_rgb(80, 170, 110);
const REJECTED: egui::Color32 = egui::Color32::from_rgb(220, 90, 90);
const LOSS: egui::Color32 = egui::Color32::from_rgb(240, 160, 60);
const BATCH: egui::Color32 = egui::Color32::from_rgb(150, 150, 150);
const VALIDATION: egui::Color32 = egui::Color32::from_rgb(90, 160, 240);

/// Training loss per step.
pub fn loss_chart_ui(h: &RunHistory, ui: &mut egui::Ui, height: f32) {
    Plot::new("rm_loss")
        .height(height)
        .legend(Legend::default())
        .x_axis_label("step")
        .include_y(0.0)
        .show(ui, |p| {
            p.line(Line::new("train loss", PlotPoints::from(h.loss.clone())).color(LOSS));
        });
}

/// Batch accuracy per step and validation accuracy per evaluation.
pub fn accuracy_chart_ui(h: &RunHistory, ui: &mut egui::Ui, height: f32) {
    Plot::new("rm_accuracy")
        .height(height)
        .legend(Legend::default())
        .x_axis_label("step")
        .include_y(0.4)
        .include_y(1.0)
        .show(ui, |p| {
            p.line(
                Line::new(
                    "train batch accuracy",
                    PlotPoints::from(h.train_accuracy.clone()),
                )
                .color(BATCH)
                .width(1.0),
            );
            p.line(
                Line::new(
                    "validation accuracy",
                    PlotPoints::from(h.validation_accuracy.clone()),
                )
                .color(VALIDATION)
                .width(2.5),
            );
        });
}

/// Scatter of held-out features projected to 2-D (Fig 11 analogue), titled with the run and
/// its linear-probe separation.
pub fn feature_scatter_ui(view: Option<&FeatureView>, ui: &mut egui::Ui, id: &str, height: f32) {
    let Some(v) = view else {
        ui.label("(no finished run yet)");
        return;
    };
    ui.label(format!(
        "{}: separation AUROC {}",
        v.label,
        v.separation.map_or("n/a".into(), |a| format!("{a:.3}"))
    ));
    Plot::new(format!("rm_features_{id}"))
        .height(height)
        .legend(Legend::default())
        .data_aspect(1.0)
        .show(ui, |p| {
            p.points(
                egui_plot::Points::new("chosen", PlotPoints::from(v.chosen.clone()))
                    .radius(1.5)
                    .color(CHOSEN),
            );
            p.points(
                egui_plot::Points::new("rejected", PlotPoints::from(v.rejected.clone()))
                    .radius(1.5)
                    .color(REJECTED),
            );
        });
}

/// Histograms of validation rewards, chosen vs rejected.
pub fn reward_histogram_ui(h: &RunHistory, ui: &mut egui::Ui, height: f32) {
    let (centres, chosen, rejected, width) =
        histogram_pair(&h.chosen_rewards, &h.rejected_rewards, 30);
    let bars = |counts: &[f64]| -> Vec<Bar> {
        centres
            .iter()
            .zip(counts)
            .map(|(&x, &c)| Bar::new(x, c).width(width))
            .collect()
    };
    Plot::new("rm_reward_hist")
        .height(height)
        .legend(Legend::default())
        .x_axis_label("reward on validation")
        .show(ui, |p| {
            p.bar_chart(BarChart::new("chosen", bars(&chosen)).color(CHOSEN.gamma_multiply(0.6)));
            p.bar_chart(
                BarChart::new("rejected", bars(&rejected)).color(REJECTED.gamma_multiply(0.6)),
            );
        });
}
