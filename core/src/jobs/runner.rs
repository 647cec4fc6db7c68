//! Runs every worker on its own task: calls `work()` while it is busy, waits
//! when it is idle, backs off exponentially after consecutive errors, keeps
//! each worker's error count and last error, and at shutdown lets a unit of
//! work in progress finish until a deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::{JobError, Worker, WorkerState};

/// The first wait after an error; it doubles with each consecutive one.
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(600);

/// What `glint jobs list` and the logs tell about one worker.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerInfo {
    pub name: &'static str,
    /// `busy`, `idle`, `throttled`, `backing_off`, `done` or `stopped`.
    pub state: &'static str,
    pub status: String,
    pub errors: u64,
    pub consecutive_errors: u32,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The running workers of this process.
pub struct Runner {
    stop: watch::Sender<bool>,
    tasks: Vec<(Arc<Mutex<WorkerInfo>>, JoinHandle<()>)>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("workers", &self.infos())
            .finish()
    }
}

impl Runner {
    /// Starts every worker on a task of its own.
    pub fn start(workers: Vec<Box<dyn Worker>>) -> Runner {
        Self::start_with_backoff(workers, BACKOFF_FIRST)
    }

    /// [`Runner::start`], with `first` as the first wait after an error.
    fn start_with_backoff(workers: Vec<Box<dyn Worker>>, first: Duration) -> Runner {
        let (stop, stopped) = watch::channel(false);
        let tasks = workers
            .into_iter()
            .map(|worker| {
                let info = Arc::new(Mutex::new(WorkerInfo {
                    name: worker.name(),
                    state: "idle",
                    ..WorkerInfo::default()
                }));
                let span = tracing::info_span!("job", name = worker.name());
                let task = tokio::spawn(
                    drive(worker, Arc::clone(&info), stopped.clone(), first).instrument(span),
                );
                (info, task)
            })
            .collect();
        Runner { stop, tasks }
    }

    /// A snapshot of every worker.
    pub fn infos(&self) -> Vec<WorkerInfo> {
        self.tasks
            .iter()
            .map(|(info, _)| lock(info).clone())
            .collect()
    }

    /// Tells every worker to stop and waits up to `grace` for the units of
    /// work in progress; what is still running then is abandoned (every unit
    /// leaves the database consistent at each await point).
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for (info, task) in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                abort.abort();
                tracing::warn!(
                    job = lock(&info).name,
                    "job did not stop within the shutdown grace period; abandoned"
                );
            }
        }
    }
}

async fn drive(
    mut worker: Box<dyn Worker>,
    info: Arc<Mutex<WorkerInfo>>,
    mut stop: watch::Receiver<bool>,
    first_backoff: Duration,
) {
    tracing::debug!("job started");
    loop {
        if *stop.borrow() {
            break;
        }
        // A unit of work in progress is let finish: `shutdown` aborts it only at
        // its deadline.
        let outcome = worker.work().await;
        crate::metrics::job_run(
            worker.name(),
            match &outcome {
                Ok(WorkerState::Busy) => "busy",
                Ok(WorkerState::Throttled(_)) => "throttled",
                Ok(WorkerState::Idle) => "idle",
                Ok(WorkerState::Done) => "done",
                Err(_) => "error",
            },
        );
        let status = worker.status();
        let pause = {
            let mut info = lock(&info);
            info.status = status;
            next_step(&mut info, outcome, first_backoff)
        };
        match pause {
            Step::Again => {}
            Step::Wait => {
                tokio::select! {
                    () = worker.wait_for_work() => {}
                    _ = stop.changed() => break,
                }
            }
            Step::Sleep(pause) => {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => break,
                }
            }
            Step::End => {
                worker.stopping().await;
                tracing::debug!("job done");
                return;
            }
        }
    }
    worker.stopping().await;
    lock(&info).state = "stopped";
    tracing::debug!("job stopped");
}

enum Step {
    Again,
    Wait,
    Sleep(Duration),
    End,
}

/// Records `outcome` in `info` and says what the worker does next.
fn next_step(
    info: &mut WorkerInfo,
    outcome: Result<WorkerState, JobError>,
    first_backoff: Duration,
) -> Step {
    match outcome {
        Ok(state) => {
            info.consecutive_errors = 0;
            match state {
                WorkerState::Busy => {
                    info.state = "busy";
                    Step::Again
                }
                WorkerState::Throttled(pause) => {
                    info.state = "throttled";
                    Step::Sleep(pause)
                }
                WorkerState::Idle => {
                    info.state = "idle";
                    Step::Wait
                }
                WorkerState::Done => {
                    info.state = "done";
                    Step::End
                }
            }
        }
        Err(e) => {
            info.errors += 1;
            info.consecutive_errors = info.consecutive_errors.saturating_add(1);
            info.last_error = Some(e.to_string());
            info.last_error_at = Some(Utc::now());
            info.state = "backing_off";
            let pause = backoff(first_backoff, info.consecutive_errors);
            tracing::warn!(error = %e, errors = info.consecutive_errors, retry_in = ?pause, "job failed");
            Step::Sleep(pause)
        }
    }
}

/// The wait after the `n`th consecutive error: `first`, twice that, four
/// times, … up to 10 min.
fn backoff(first: Duration, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
    first.saturating_mul(factor).min(BACKOFF_MAX)
}

fn lock(info: &Mutex<WorkerInfo>) -> std::sync::MutexGuard<'_, WorkerInfo> {
    info.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use futures::future::BoxFuture;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(BACKOFF_FIRST, 1), Duration::from_secs(1));
        assert_eq!(backoff(BACKOFF_FIRST, 2), Duration::from_secs(2));
        assert_eq!(backoff(BACKOFF_FIRST, 5), Duration::from_secs(16));
        assert_eq!(backoff(BACKOFF_FIRST, 20), BACKOFF_MAX);
        assert_eq!(backoff(BACKOFF_FIRST, u32::MAX), BACKOFF_MAX);
    }

    /// Fails twice, then is busy three times, then done; counts its calls.
    struct Flaky {
        calls: Arc<AtomicU32>,
    }

    impl Worker for Flaky {
        fn name(&self) -> &'static str {
            "flaky"
        }
        fn status(&self) -> String {
            format!("{} calls", self.calls.load(Ordering::SeqCst))
        }
        fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 | 1 => Err(JobError::Other(format!("failure {n}"))),
                    2..=4 => Ok(WorkerState::Busy),
                    _ => Ok(WorkerState::Done),
                }
            }
            .boxed()
        }
        fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
            futures::future::pending().boxed()
        }
    }

    #[tokio::test]
    async fn errors_are_counted_backed_off_and_cleared_by_success() {
        let calls = Arc::new(AtomicU32::new(0));
        let first = Duration::from_millis(100);
        let started = std::time::Instant::now();
        let runner = Runner::start_with_backoff(
            vec![Box::new(Flaky {
                calls: Arc::clone(&calls),
            })],
            first,
        );
        while runner.infos()[0].state != "done" {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{:?}",
                runner.infos()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Two backoffs: 100 ms, then 200 ms.
        assert!(started.elapsed() >= first * 3);
        let info = &runner.infos()[0];
        assert_eq!(calls.load(Ordering::SeqCst), 6);
        assert_eq!(info.errors, 2);
        assert_eq!(info.consecutive_errors, 0);
        assert_eq!(info.last_error.as_deref(), Some("failure 1"));
        assert_eq!(info.status, "6 calls");
        runner.shutdown(Duration::from_secs(1)).await;
    }

    struct Sleeper;

    impl Worker for Sleeper {
        fn name(&self) -> &'static str {
            "sleeper"
        }
        fn status(&self) -> String {
            String::new()
        }
        fn work(&mut self) -> BoxFuture<'_, Result<WorkerState, JobError>> {
            async { Ok(WorkerState::Idle) }.boxed()
        }
        fn wait_for_work(&mut self) -> BoxFuture<'_, ()> {
            tokio::time::sleep(Duration::from_secs(3600)).boxed()
        }
    }

    #[tokio::test]
    async fn shutdown_stops_an_idle_worker_at_once() {
        let runner = Runner::start(vec![Box::new(Sleeper)]);
        let started = std::time::Instant::now();
        runner.shutdown(Duration::from_secs(30)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
