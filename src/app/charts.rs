//! Charts of a reward-model run: loss and accuracy curves (earlier runs kept for comparison),
//! reward histograms, the held-out feature scatter.
use egui_plot::{Bar, BarChart, HLine, Line, PlotPoints};

use super::compare::Compare;
use super::export;
use super::history::{FeatureView, RunHistory, histogram_pair};
use super::plot_style::{self, palette};

/// Training loss per step (smoothed by `smoothing`, 0 = raw).
pub fn loss_chart_ui(h: &RunHistory, ui: &mut egui::Ui, height: f32, smoothing: f64) {
    plot_style::chart_title_ui(
        ui,
        "Training loss",
        "The Bradley–Terry loss −log σ(r_chosen − r_rejected) of each training batch. It starts near log 2 ≈ 0.69 (the model cannot tell the two answers apart) and falls as the model learns to score the chosen answer higher.",
        &["rm_loss"],
        &|| export::series_csv("step", "loss", &[("train loss", &h.loss)]),
    );
    if h.loss.is_empty() {
        plot_style::placeholder_ui(
            ui,
            height,
            "The loss of every training step will appear here: press Train.",
        );
        return;
    }
    plot_style::legend_ui(
        ui,
        &[
            ("train loss (per batch)", palette::VERMILLION),
            ("coin toss: log 2", palette::GREY),
        ],
    );
    plot_style::plot("rm_loss", height, "training step", "loss")
        .include_y(0.0)
        .show(ui, |p| {
            p.hline(HLine::new("coin toss: log 2", std::f64::consts::LN_2).color(palette::GREY));
            p.line(
                Line::new(
                    "train loss (per batch)",
                    PlotPoints::from(plot_style::smooth(&h.loss, smoothing)),
                )
                .color(palette::VERMILLION),
            );
        });
}

/// Batch accuracy per step and validation accuracy per evaluation, with earlier runs' validation
/// curves.
pub fn accuracy_chart_ui(
    h: &RunHistory,
    earlier: &mut Compare<Vec<[f64; 2]>>,
    ui: &mut egui::Ui,
    height: f32,
    smoothing: f64,
) {
    let csv = || {
        let mut series: Vec<(&str, &[[f64; 2]])> = vec![
            ("validation accuracy", &h.validation_accuracy),
            ("train batch accuracy", &h.train_accuracy),
        ];
        series.extend(
            earlier
                .runs
                .iter()
                .map(|r| (r.label.as_str(), r.data.as_slice())),
        );
        export::series_csv("step", "accuracy", &series)
    };
    plot_style::chart_title_ui(
        ui,
        "Accuracy",
        "How often the model scores the chosen answer above the rejected one. Grey: on each training batch (noisy). Blue: on held-out validation pairs the model never trains on, checked against the gold reward in the synthetic world. 0.5 is guessing.",
        &["rm_accuracy"],
        &csv,
    );
    if h.train_accuracy.is_empty() && earlier.runs.is_empty() {
        plot_style::placeholder_ui(
            ui,
            height,
            "Training-batch and validation accuracy will appear here as the model trains.",
        );
        return;
    }
    let mut entries = vec![
        ("validation accuracy", palette::BLUE),
        ("train batch accuracy", palette::GREY),
        ("chance: 0.5", palette::REFERENCE),
    ];
    earlier.toggles_ui(ui);
    let shown = earlier.shown();
    for (run, color) in &shown {
        entries.push((run.label.as_str(), *color));
    }
    plot_style::legend_ui(ui, &entries);
    plot_style::plot("rm_accuracy", height, "training step", "accuracy")
        .include_y(0.45)
        .include_y(1.0)
        .show(ui, |p| {
            p.hline(HLine::new("chance: 0.5", 0.5).color(palette::REFERENCE));
            p.line(
                Line::new(
                    "train batch accuracy",
                    PlotPoints::from(plot_style::smooth(&h.train_accuracy, smoothing)),
                )
                .color(palette::GREY)
                .width(1.0),
            );
            for (run, color) in &shown {
                p.line(
                    Line::new(run.label.clone(), PlotPoints::from(run.data.clone()))
                        .color(*color)
                        .width(1.5),
                );
            }
            p.line(
                Line::new(
                    "validation accuracy",
                    PlotPoints::from(h.validation_accuracy.clone()),
                )
                .color(palette::BLUE)
                .width(2.5),
            );
        });
}

/// Scatter of held-out features projected to 2-D (Fig 11 analogue), titled with the run and
/// its linear-probe separation.
pub fn feature_scatter_ui(view: Option<&FeatureView>, ui: &mut egui::Ui, id: &str, height: f32) {
    let Some(v) = view else {
        plot_style::placeholder_ui(
            ui,
            height,
            if id == "prev" {
                "The run before this one will stay here for comparison."
            } else {
                "When a run finishes, its held-out features appear here."
            },
        );
        return;
    };
    ui.label(format!(
        "{}: separation AUROC {}",
        v.label,
        v.separation.map_or("n/a".into(), |a| format!("{a:.3}"))
    ));
    plot_style::plot(
        &format!("rm_features_{id}"),
        height,
        "principal component 1",
        "principal component 2",
    )
    .data_aspect(1.0)
    .show(ui, |p| {
        p.points(
            egui_plot::Points::new("chosen", PlotPoints::from(v.chosen.clone()))
                .radius(1.5)
                .color(palette::CHOSEN),
        );
        p.points(
            egui_plot::Points::new("rejected", PlotPoints::from(v.rejected.clone()))
                .radius(1.5)
                .color(palette::REJECTED),
        );
    });
}

/// Histograms of validation rewards, chosen vs rejected.
pub fn reward_histogram_ui(h: &RunHistory, ui: &mut egui::Ui, height: f32) {
    let csv = || {
        let points = |r: &[f32]| -> Vec<[f64; 2]> {
            r.iter()
                .enumerate()
                .map(|(i, &v)| [i as f64, f64::from(v)])
                .collect()
        };
        let (c, r) = (points(&h.chosen_rewards), points(&h.rejected_rewards));
        export::series_csv("pair", "reward", &[("chosen", &c), ("rejected", &r)])
    };
    plot_style::chart_title_ui(
        ui,
        "Validation rewards: chosen vs rejected",
        "The scores the model gives to the chosen and to the rejected answers of the held-out pairs, at the latest evaluation. A model that has learned the preference pulls the two humps apart.",
        &["rm_reward_hist"],
        &csv,
    );
    if h.chosen_rewards.is_empty() {
        plot_style::placeholder_ui(
            ui,
            height,
            "Histograms of the rewards of held-out chosen and rejected answers will appear at the first evaluation.",
        );
        return;
    }
    let (centres, chosen, rejected, width) =
        histogram_pair(&h.chosen_rewards, &h.rejected_rewards, 30);
    // Side by side in each bin (overlapping bars would mix into a third colour).
    let bars = |counts: &[f64], offset: f64| -> Vec<Bar> {
        centres
            .iter()
            .zip(counts)
            .map(|(&x, &c)| Bar::new(x + offset * width, c).width(width * 0.45))
            .collect()
    };
    plot_style::legend_ui(
        ui,
        &[("chosen", palette::CHOSEN), ("rejected", palette::REJECTED)],
    );
    plot_style::plot("rm_reward_hist", height, "reward on validation", "answers").show(ui, |p| {
        p.bar_chart(BarChart::new("chosen", bars(&chosen, 0.25)).color(palette::CHOSEN));
        p.bar_chart(BarChart::new("rejected", bars(&rejected, -0.25)).color(palette::REJECTED));
    });
}
