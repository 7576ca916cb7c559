//! Drives a runner without blocking the UI: a worker thread natively, an async task yielding to
//! the browser's event loop on the web. Both speak the same commands and hand back events.
use crate::compute::Compute;
use crate::experiment::prepare::Upload;
use crate::experiment::runner::step_reported;
use crate::experiment::{AnyRunner, Artifacts, Event, RunConfig, Runner, Span, Stride};

/// What the UI can ask of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Keep stepping.
    Run,
    /// Stop after the current step.
    Pause,
    /// Take exactly one step, then pause.
    Step,
    /// Take this many steps, then pause.
    Steps(u32),
    /// Run at most this many steps per second (0: as fast as the machine goes).
    Rate(u32),
    /// Take steps to the end of the current epoch or job, then pause.
    Through(Stride),
}

/// What one press of Step takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepSize {
    /// This many optimizer steps.
    Steps(u32),
    /// To the end of the current epoch or job (member, band, method, stage).
    By(Stride),
}

impl StepSize {
    /// The command for one press.
    pub fn command(self) -> Command {
        match self {
            Self::Steps(n) => Command::Steps(n),
            Self::By(stride) => Command::Through(stride),
        }
    }
}

/// Called after new events are ready (e.g. to request a repaint).
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// Run / pause / single-step bookkeeping and the speed limit, shared by both drivers.
#[derive(Debug, Default, PartialEq, Eq)]
struct Pacer {
    running: bool,
    pending_steps: usize,
    /// Least time between two steps when running (none: no limit).
    interval: Option<Duration>,
    /// When the next step of a running run is due.
    next_due: Option<Instant>,
    /// A Step by epoch or job in progress: its stride and the span it began in.
    through: Option<(Stride, Span)>,
}

use std::time::Duration;
use web_time::Instant;

impl Pacer {
    /// Apply a command; a Step by epoch or job is measured against `runner` (one step where
    /// the run has no such unit now).
    fn command(&mut self, command: Command, runner: &dyn Runner) {
        if let Command::Through(stride) = command {
            self.apply(Command::Pause);
            match runner.span(stride) {
                Some(span) => {
                    self.through = Some((stride, span));
                    self.next_due = None;
                }
                None => self.apply(Command::Step),
            }
            return;
        }
        self.apply(command);
    }

    /// After a step: a Step by epoch or job ends once the run has moved on to the next one.
    fn stepped(&mut self, runner: &dyn Runner) {
        if let Some((stride, span)) = &self.through
            && runner.span(*stride).as_ref() != Some(span)
        {
            self.through = None;
        }
    }

    fn apply(&mut self, command: Command) {
        if !matches!(command, Command::Rate(_)) {
            self.through = None;
        }
        match command {
            Command::Through(_) => self.pending_steps += 1,
            Command::Steps(n) => {
                self.running = false;
                self.pending_steps += n as usize;
            }
            Command::Rate(r) => {
                self.interval = (r > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(r)));
                self.next_due = None;
            }
            Command::Run => {
                self.running = true;
                self.pending_steps = 0;
            }
            Command::Pause => {
                self.running = false;
                self.pending_steps = 0;
            }
            Command::Step => {
                self.running = false;
                self.pending_steps += 1;
            }
        }
    }

    /// How long to wait before the next step is due (zero: now); none while idle.
    fn wait(&self, now: Instant) -> Option<Duration> {
        if self.pending_steps > 0 {
            return Some(Duration::ZERO);
        }
        if !self.running && self.through.is_none() {
            return None;
        }
        Some(
            self.next_due
                .map_or(Duration::ZERO, |due| due.saturating_duration_since(now)),
        )
    }

    /// Whether a step is due at `now`; counts a pending single step as taken. A running run and
    /// a Step by epoch or job keep to the speed limit; a number of steps does not.
    fn take_step(&mut self, now: Instant) -> bool {
        if self.running || self.through.is_some() {
            if self.wait(now).is_some_and(|w| !w.is_zero()) {
                return false;
            }
            self.next_due = self.interval.map(|i| now + i);
            return true;
        }
        if self.pending_steps > 0 {
            self.pending_steps -= 1;
            return true;
        }
        false
    }

    /// Nothing to do until the next command (the native worker blocks then).
    #[cfg(test)]
    fn idle(&self) -> bool {
        !self.running && self.pending_steps == 0 && self.through.is_none()
    }
}

/// What a run reads besides its config: a file picked in the browser, and what earlier runs
/// handed over.
#[derive(Clone, Debug, Default)]
pub struct RunInputs {
    /// The picked data file's bytes (browser).
    pub upload: Option<Upload>,
    /// Earlier runs' results (the strength tab's μ for the denoising tab).
    pub artifacts: Artifacts,
}

/// Set up the runner (and its first events), turning set-up errors into an error event.
fn setup(
    config: RunConfig,
    compute: Compute,
    inputs: RunInputs,
) -> Result<(AnyRunner, Vec<Event>), Box<Event>> {
    config
        .build(compute, inputs.upload.as_ref(), &inputs.artifacts)
        .map_err(|e| {
            Box::new(Event::Error {
                message: e.to_string(),
            })
        })
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;
    use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};

    /// A run on a worker thread. Dropping it stops the thread after its current step.
    pub struct RunController {
        commands: Sender<Command>,
        events: Receiver<Event>,
        ended: std::cell::Cell<bool>,
    }

    impl RunController {
        /// Start a run; `first` says whether it runs freely or takes one step.
        pub fn start(
            config: RunConfig,
            compute: Compute,
            inputs: RunInputs,
            first: Command,
            waker: Waker,
        ) -> Self {
            let (command_tx, command_rx) = channel();
            let (event_tx, event_rx) = channel();
            let _ = command_tx.send(first);
            std::thread::Builder::new()
                .name("rlhf-lab-runner".into())
                .spawn(move || worker(config, compute, inputs, command_rx, event_tx, waker))
                .map_err(|e| log::error!("could not start the training thread: {e}"))
                .ok();
            Self {
                commands: command_tx,
                events: event_rx,
                ended: std::cell::Cell::new(false),
            }
        }

        /// Send a command (ignored once the run has ended).
        pub fn send(&self, command: Command) {
            let _ = self.commands.send(command);
        }

        /// Events produced since the last call. If the worker is gone without saying why,
        /// an error event says so, so the UI never waits on a dead run.
        pub fn drain(&self) -> Vec<Event> {
            let mut out = Vec::new();
            loop {
                match self.events.try_recv() {
                    Ok(e) => out.push(e),
                    Err(std::sync::mpsc::TryRecvError::Empty) => return out,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        if !self.ended.replace(true) {
                            out.push(Event::Error {
                                message: "the training thread stopped".into(),
                            });
                        }
                        return out;
                    }
                }
            }
        }
    }

    fn worker(
        config: RunConfig,
        compute: Compute,
        inputs: RunInputs,
        commands: Receiver<Command>,
        events: Sender<Event>,
        waker: Waker,
    ) {
        let emit = |e: Event| {
            let _ = events.send(e);
            waker();
        };
        let set_up = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            setup(config, compute, inputs)
        }));
        let mut runner = match set_up {
            Ok(Ok((r, first))) => {
                for e in first {
                    let _ = events.send(e);
                }
                waker();
                r
            }
            Ok(Err(e)) => return emit(*e),
            Err(_) => {
                return emit(Event::Error {
                    message: "setting up the run crashed (out of memory on the device?); \
                              try a smaller model or the CPU backend"
                        .into(),
                });
            }
        };
        let mut pacer = Pacer::default();
        loop {
            // Block while idle; wait for the next step's turn under a speed limit; otherwise
            // only look for new commands between steps.
            let command = match pacer.wait(web_time::Instant::now()) {
                None => match commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                },
                Some(wait) if !wait.is_zero() => match commands.recv_timeout(wait) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                Some(_) => match commands.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                },
            };
            if let Some(c) = command {
                pacer.command(c, runner.as_ref());
                continue;
            }
            if !pacer.take_step(web_time::Instant::now()) {
                continue;
            }
            // A panic inside the backend (e.g. a lost GPU) must not take the UI down with it.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pollster::block_on(step_reported(runner.as_mut()))
            }));
            pacer.stepped(runner.as_ref());
            match result {
                Ok(Ok(evs)) => {
                    for e in evs {
                        let _ = events.send(e);
                    }
                    waker();
                }
                Ok(Err(e)) => {
                    return emit(Event::Error {
                        message: e.to_string(),
                    });
                }
                Err(_) => {
                    return emit(Event::Error {
                        message: "the compute backend crashed during a step (device lost?). Results so far are kept; \
                                  switch to the CPU backend and start again"
                            .into(),
                    });
                }
            }
            if runner.is_finished() {
                return;
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    #[derive(Default)]
    struct Shared {
        commands: VecDeque<Command>,
        events: Vec<Event>,
        stopped: bool,
    }

    /// A run as an async task on the page's event loop. Dropping it stops the task.
    pub struct RunController {
        shared: Rc<RefCell<Shared>>,
    }

    impl Drop for RunController {
        fn drop(&mut self) {
            self.shared.borrow_mut().stopped = true;
        }
    }

    use crate::compute::sleep_ms;

    thread_local! {
        /// Milliseconds spent inside runs' steps on this page so far, less the page's turns
        /// inside them (a profiling span: the page's status marker shows it).
        static BUSY_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    }

    /// Milliseconds this page has spent inside runs' steps.
    pub fn busy_ms() -> f64 {
        BUSY_MS.get()
    }

    impl RunController {
        /// Start a run; `first` says whether it runs freely or takes one step.
        pub fn start(
            config: RunConfig,
            compute: Compute,
            inputs: RunInputs,
            first: Command,
            waker: Waker,
        ) -> Self {
            let shared = Rc::new(RefCell::new(Shared::default()));
            shared.borrow_mut().commands.push_back(first);
            let task = shared.clone();
            wasm_bindgen_futures::spawn_local(async move {
                sleep_ms(0).await;
                let mut runner = match setup(config, compute, inputs) {
                    Ok((r, first)) => {
                        task.borrow_mut().events.extend(first);
                        waker();
                        r
                    }
                    Err(e) => {
                        task.borrow_mut().events.push(*e);
                        return waker();
                    }
                };
                let mut pacer = Pacer::default();
                loop {
                    {
                        let mut s = task.borrow_mut();
                        if s.stopped {
                            return;
                        }
                        while let Some(c) = s.commands.pop_front() {
                            pacer.command(c, runner.as_ref());
                        }
                    }
                    let now = web_time::Instant::now();
                    if !pacer.take_step(now) {
                        // Idle, or a speed limit's next step is not due yet.
                        let wait = pacer
                            .wait(now)
                            .unwrap_or(std::time::Duration::from_millis(50));
                        sleep_ms(wait.as_millis().clamp(1, 50) as i32).await;
                        continue;
                    }
                    let (began, away) = (web_time::Instant::now(), crate::compute::away_ms());
                    let result = step_reported(runner.as_mut()).await;
                    let inside = began.elapsed().as_secs_f64() * 1e3;
                    BUSY_MS.set(BUSY_MS.get() + inside - (crate::compute::away_ms() - away));
                    pacer.stepped(runner.as_ref());
                    match result {
                        Ok(evs) => task.borrow_mut().events.extend(evs),
                        Err(e) => {
                            task.borrow_mut().events.push(Event::Error {
                                message: e.to_string(),
                            });
                            return waker();
                        }
                    }
                    waker();
                    if runner.is_finished() {
                        return;
                    }
                    // Running freely, steps share a slice of the thread (a step of a few
                    // milliseconds would otherwise wait for a timer and a frame each); one step
                    // at a time, the page gets its turn after each.
                    if pacer.running {
                        crate::compute::yield_to_host().await;
                    } else {
                        crate::compute::give_turn().await;
                    }
                }
            });
            Self { shared }
        }

        /// Send a command.
        pub fn send(&self, command: Command) {
            self.shared.borrow_mut().commands.push_back(command);
        }

        /// Events produced since the last call.
        pub fn drain(&self) -> Vec<Event> {
            std::mem::take(&mut self.shared.borrow_mut().events)
        }
    }
}

pub use imp::RunController;
#[cfg(target_arch = "wasm32")]
pub use imp::busy_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_runs_pauses_and_single_steps() {
        let t = web_time::Instant::now();
        let mut p = Pacer::default();
        assert!(p.idle() && !p.take_step(t) && p.wait(t).is_none());
        p.apply(Command::Step);
        p.apply(Command::Step);
        assert!(
            p.take_step(t) && p.take_step(t) && !p.take_step(t),
            "two single steps, then idle"
        );
        p.apply(Command::Run);
        assert!(p.take_step(t) && p.take_step(t), "running keeps stepping");
        p.apply(Command::Pause);
        assert!(p.idle() && !p.take_step(t));
        // Queued single steps do not outlive a Pause.
        p.apply(Command::Step);
        p.apply(Command::Step);
        p.apply(Command::Run);
        p.apply(Command::Pause);
        assert!(p.idle() && !p.take_step(t));
        p.apply(Command::Steps(3));
        assert_eq!(p.pending_steps, 3, "a batch of steps");
    }

    /// Steps in epochs of 3 and jobs of 6; nothing else.
    struct Counter(usize);

    impl Runner for Counter {
        fn step(&mut self) -> crate::experiment::runner::StepFuture<'_> {
            self.0 += 1;
            Box::pin(async { Ok(Vec::new()) })
        }
        fn is_finished(&self) -> bool {
            self.0 >= 12
        }
        fn progress(&self) -> crate::experiment::Progress {
            crate::experiment::Progress {
                done: self.0,
                total: 12,
            }
        }
        fn report_json(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
        fn span(&self, stride: Stride) -> Option<Span> {
            let per = if stride == Stride::Epoch { 3 } else { 6 };
            (self.0 < 12).then(|| vec![self.0 / per])
        }
    }

    /// Press Step with `command` and count the steps taken before the pacer stops.
    fn press(p: &mut Pacer, runner: &mut Counter, command: Command) -> usize {
        let t = web_time::Instant::now();
        p.command(command, runner);
        let mut taken = 0;
        while p.take_step(t) && !runner.is_finished() {
            pollster::block_on(runner.step()).unwrap();
            p.stepped(runner);
            taken += 1;
        }
        taken
    }

    #[test]
    fn a_step_by_epoch_or_job_stops_where_the_next_one_begins() {
        let mut p = Pacer::default();
        let mut r = Counter(0);
        assert_eq!(press(&mut p, &mut r, Command::Step), 1);
        assert_eq!(
            press(&mut p, &mut r, Command::Through(Stride::Epoch)),
            2,
            "the rest of epoch 0 (steps 2 and 3)"
        );
        assert_eq!(press(&mut p, &mut r, Command::Through(Stride::Epoch)), 3);
        assert!(p.idle());
        assert_eq!(r.0, 6);
        assert_eq!(press(&mut p, &mut r, Command::Through(Stride::Job)), 6);
        // A speed limit leaves it be, a Pause ends it; a run without the unit takes one step.
        p.command(Command::Through(Stride::Job), &r);
        p.apply(Command::Rate(3));
        assert!(!p.idle());
        p.apply(Command::Pause);
        assert!(p.idle());
        r.0 = 12;
        p.command(Command::Through(Stride::Epoch), &r);
        assert_eq!((p.pending_steps, p.through.is_none()), (1, true));
    }

    #[test]
    fn a_speed_limit_spaces_the_steps_of_a_running_run() {
        let t = web_time::Instant::now();
        let ms = Duration::from_millis;
        let mut p = Pacer::default();
        p.apply(Command::Rate(10));
        p.apply(Command::Run);
        assert_eq!(p.wait(t), Some(Duration::ZERO), "the first step at once");
        assert!(p.take_step(t));
        assert_eq!(p.wait(t), Some(ms(100)), "then 1/10 s apart");
        assert!(!p.take_step(t + ms(60)), "not due yet");
        assert_eq!(p.wait(t + ms(60)), Some(ms(40)));
        assert!(p.take_step(t + ms(100)));
        // Single steps are not held back; no limit steps at once.
        p.apply(Command::Step);
        assert_eq!(p.wait(t + ms(101)), Some(Duration::ZERO));
        // A Step to the end of the job keeps to the limit, as running does.
        p.command(Command::Through(Stride::Job), &Counter(0));
        assert!(p.take_step(t + ms(101)), "its first step at once");
        assert!(!p.take_step(t + ms(150)) && p.take_step(t + ms(201)));
        p.apply(Command::Rate(0));
        p.apply(Command::Run);
        assert!(p.take_step(t + ms(102)) && p.take_step(t + ms(102)));
    }
}
