//! Pieces every experiment tab shares: the compute/data banners and the run controls.
use super::controller::StepSize;
use super::{Request, RunState, Shell};
use crate::experiment::Stride;

/// Amber for notes (readable on the dark and the light theme).
const NOTE: egui::Color32 = egui::Color32::from_rgb(200, 150, 30);

/// Compute device, data summary, notices and errors (`mine`: the current run is this tab's).
pub fn banners_ui(shell: &mut Shell, ui: &mut egui::Ui, mine: bool) {
    match shell.compute() {
        None => {
            ui.label("starting the compute device…");
        }
        Some(c) => {
            let on = if c.backend_name() == "flex" {
                format!("computing on the {}", c.adapter)
            } else {
                format!("computing on the GPU ({})", c.adapter)
            };
            ui.label(on).on_hover_text(format!(
                "burn backend '{}'; choose the backend with ?backend=cpu|gpu|auto in the link or --backend",
                c.backend_name()
            ));
            if let Some(n) = &c.notice {
                ui.colored_label(NOTE, format!("note: {n}"));
            }
        }
    }
    super::lesson::dismissable_ui(&mut shell.notes, "note", NOTE, ui);
    if !mine {
        return;
    }
    let h = &shell.history;
    if let Some(s) = h.summary() {
        ui.label(s);
    }
    if let Some(d) = &h.done {
        ui.label(d);
    }
    if let Some(e) = &h.error {
        ui.colored_label(super::plot_style::ERROR, format!("error: {e}"));
    }
}

/// Train / Pause / Step / Reset, a status line and a progress bar (`mine`: the current run is
/// this tab's). The buttons ask the app; it acts once the frame is drawn.
pub fn controls_ui(shell: &mut Shell, ui: &mut egui::Ui, mine: bool, fraction: f32, status: &str) {
    let ready = shell.compute().is_some();
    let busy_elsewhere = !mine && matches!(shell.state, RunState::Running | RunState::Paused);
    ui.horizontal(|ui| {
        let running = shell.state == RunState::Running;
        let can_start = ready && !running && !busy_elsewhere;
        if ui
            .add_enabled(can_start, egui::Button::new("Train"))
            .clicked()
        {
            shell.request(Request::Train);
        }
        if ui
            .add_enabled(running && !busy_elsewhere, egui::Button::new("Pause"))
            .clicked()
        {
            shell.request(Request::Pause);
        }
        if ui
            .add_enabled(can_start, egui::Button::new("Step"))
            .clicked()
        {
            shell.request(Request::Step);
        }
        if ui.button("Reset").clicked() {
            shell.request(Request::Reset);
        }
        pace_ui(shell, ui);
        if busy_elsewhere {
            ui.label(format!(
                "a {} run is in progress: reset it to start this one",
                shell.run_title
            ));
        }
    });
    if !busy_elsewhere {
        let state = match shell.state {
            _ if !mine => "ready: press Train to run, Step to go step by step",
            RunState::Idle => "ready: press Train to run, Step to go step by step",
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Done => "done",
            RunState::Failed => "stopped on an error",
        };
        let line = if status.is_empty() || !mine {
            state.to_string()
        } else {
            format!("{state} · {status}")
        };
        ui.add(egui::Label::new(line).wrap());
    }
    let fraction = if mine { fraction } else { 0.0 };
    ui.add(egui::ProgressBar::new(fraction).show_percentage());
}

/// Speeds offered, in steps per second (0: as fast as the machine goes).
const SPEEDS: [u32; 6] = [0, 100, 30, 10, 3, 1];

/// The speed limit and the size of a Step.
fn pace_ui(shell: &mut Shell, ui: &mut egui::Ui) {
    let name = |s: u32| match s {
        0 => "max speed".to_string(),
        s => format!("{s} steps/s"),
    };
    let mut speed = shell.speed;
    egui::ComboBox::new("speed", "")
        .selected_text(name(speed))
        .width(100.0)
        .show_ui(ui, |ui| {
            for s in SPEEDS {
                ui.selectable_value(&mut speed, s, name(s));
            }
        })
        .response
        .on_hover_text("Slow a run down to watch it learn (natively the small runs take seconds)");
    if speed != shell.speed {
        shell.set_speed(speed);
    }
    let job = shell.job_stride;
    let (epoch, epoch_hint) = shell.epoch_stride.unwrap_or((
        "an epoch",
        "to the end of the pass over the training pairs that the model in training is on",
    ));
    let name = |s: StepSize| match s {
        StepSize::Steps(1) => "Step = 1 step".to_string(),
        StepSize::Steps(n) => format!("Step = {n} steps"),
        StepSize::By(Stride::Epoch) => format!("Step = {epoch}"),
        StepSize::By(Stride::Job) => format!("Step = {}", job.map_or("the run", |j| j.0)),
    };
    if job.is_none() && shell.step_size == StepSize::By(Stride::Job) {
        shell.step_size = StepSize::By(Stride::Epoch);
    }
    egui::ComboBox::new("step_size", "")
        .selected_text(name(shell.step_size))
        .width(130.0)
        .show_ui(ui, |ui| {
            for n in [1, 10, 100] {
                ui.selectable_value(&mut shell.step_size, StepSize::Steps(n), name(StepSize::Steps(n)));
            }
            ui.selectable_value(&mut shell.step_size, StepSize::By(Stride::Epoch), name(StepSize::By(Stride::Epoch)))
                .on_hover_text(epoch_hint);
            if let Some((_, hint)) = job {
                ui.selectable_value(&mut shell.step_size, StepSize::By(Stride::Job), name(StepSize::By(Stride::Job)))
                    .on_hover_text(hint);
            }
        })
        .response
        .on_hover_text("What one press of Step takes: a few training steps, to the end of the epoch, or to the end of the model in training; then the run pauses");
}
