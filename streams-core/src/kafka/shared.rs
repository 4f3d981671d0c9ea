//! What a [`KafkaStreams`](crate::kafka::KafkaStreams) client shares with its threads: the
//! client state and its listener, the uncaught-error policy, each thread's phase, metrics.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

use crate::error::StreamsError;
use crate::processor::internals::task_manager::RestoreListenerSlot;

/// The state of a [`KafkaStreams`](crate::KafkaStreams) client (Kafka Streams' `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KafkaStreamsState {
    /// Built, not started.
    Created,
    /// Joining the group, creating tasks or restoring state.
    Rebalancing,
    /// Every thread has its tasks and is processing.
    Running,
    /// `close` was called; threads are committing and closing their tasks.
    PendingShutdown,
    /// Closed.
    NotRunning,
    /// A stream thread failed; the client shut down. [`KafkaStreams::close`](crate::KafkaStreams::close) returns the error.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreadPhase {
    Starting,
    Rebalancing,
    Running,
    PendingShutdown,
    Dead,
    Failed,
}

pub(super) type StateListener = Box<dyn Fn(KafkaStreamsState, KafkaStreamsState) + Send + Sync>;
pub(super) type ErrorHandler =
    Box<dyn Fn(&StreamsError) -> StreamThreadExceptionResponse + Send + Sync>;

/// What to do when a stream thread fails with an error (Kafka Streams'
/// `StreamsUncaughtExceptionHandler` responses). Set with
/// [`KafkaStreams::set_uncaught_exception_handler`](crate::KafkaStreams::set_uncaught_exception_handler); without a handler the client shuts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamThreadExceptionResponse {
    /// Start a new thread in place of the failed one. Its tasks are not committed: they
    /// restart from the last committed offsets (state from the last checkpoint, or wiped and
    /// restored under exactly-once). An error that repeats (a poison record under the `fail`
    /// deserialization policy, say) makes the replacement fail again.
    ReplaceThread,
    /// Shut this client down: the other threads commit and close; the state becomes
    /// [`KafkaStreamsState::Error`] and [`KafkaStreams::close`](crate::KafkaStreams::close) returns the error.
    ShutdownClient,
    /// Shut down every instance of the application (all clients with this `application.id`),
    /// each as with `ShutdownClient`. The request travels through the internal topic
    /// `<application.id>-control`.
    ShutdownApplication,
}

pub(super) struct SharedInner {
    pub(super) phases: Vec<ThreadPhase>,
    pub(super) state: KafkaStreamsState,
    pub(super) error: Option<StreamsError>,
    /// State changes (new, old) not yet given to the state listener, oldest first.
    pub(super) unreported: VecDeque<(KafkaStreamsState, KafkaStreamsState)>,
}

/// What the client and its threads share.
pub(crate) struct Shared {
    pub(super) shutdown: AtomicBool,
    pub(super) inner: Mutex<SharedInner>,
    pub(super) changed: Condvar,
    pub(super) listener: Mutex<Option<StateListener>>,
    pub(super) error_handler: Mutex<Option<ErrorHandler>>,
    pub(super) restore_listener: RestoreListenerSlot,
    /// Threads replaced after an error so far.
    pub(super) replaced_threads: std::sync::atomic::AtomicUsize,
    /// Totals over every task this client ran (`TaskMetrics`' counters).
    pub(super) processed: AtomicU64,
    pub(super) dropped_records: AtomicU64,
    pub(super) punctuations: AtomicU64,
    pub(super) restore_restarts: AtomicU64,
}

impl Shared {
    pub(super) fn new() -> Shared {
        Shared {
            shutdown: AtomicBool::new(false),
            inner: Mutex::new(SharedInner {
                phases: Vec::new(),
                state: KafkaStreamsState::Created,
                error: None,
                unreported: VecDeque::new(),
            }),
            changed: Condvar::new(),
            listener: Mutex::new(None),
            error_handler: Mutex::new(None),
            restore_listener: RestoreListenerSlot::default(),
            replaced_threads: std::sync::atomic::AtomicUsize::new(0),
            processed: AtomicU64::new(0),
            dropped_records: AtomicU64::new(0),
            punctuations: AtomicU64::new(0),
            restore_restarts: AtomicU64::new(0),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, SharedInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state under the lock and queues the change for the state listener, which
    /// [`Self::report_state_changes`] calls once the lock is released: a listener may then call
    /// back into the client (`state()`, `wait_for_state`) or take locks of its own without a
    /// deadlock, as in Kafka Streams, which also calls it outside its state lock.
    pub(super) fn set_state(&self, inner: &mut SharedInner, new: KafkaStreamsState) {
        let old = inner.state;
        if old == new {
            return;
        }
        inner.state = new;
        inner.unreported.push_back((new, old));
        tracing::info!(from = ?old, to = ?new, "state change");
        self.changed.notify_all();
    }

    /// Gives the queued state changes to the listener, in order, without holding the state
    /// lock. One thread reports at a time: a change queued while another thread (or the
    /// listener itself, on this thread) is reporting is reported by that thread before it
    /// stops. A panic in the listener is logged and does not stop the client.
    pub(super) fn report_state_changes(&self) {
        loop {
            let listener = match self.listener.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            loop {
                // Its own statement: the state lock is released before the listener runs.
                let next = self.lock().unreported.pop_front();
                let Some((new, old)) = next else {
                    break;
                };
                if let Some(listener) = listener.as_ref() {
                    let call = std::panic::AssertUnwindSafe(|| listener(new, old));
                    if std::panic::catch_unwind(call).is_err() {
                        tracing::error!(from = ?old, to = ?new, "the state listener panicked");
                    }
                }
            }
            drop(listener);
            // A change queued after the last look but before the listener lock was released
            // found that lock taken and left the change to this thread.
            if self.lock().unreported.is_empty() {
                return;
            }
        }
    }

    pub(super) fn set_phase(&self, thread: usize, phase: ThreadPhase) {
        self.set_phase_locked(thread, phase);
        self.report_state_changes();
    }

    pub(super) fn set_phase_locked(&self, thread: usize, phase: ThreadPhase) {
        let mut inner = self.lock();
        if let Some(p) = inner.phases.get_mut(thread) {
            *p = phase;
        }
        let state = if inner.error.is_some() {
            KafkaStreamsState::Error
        } else if inner.phases.iter().all(|p| *p == ThreadPhase::Dead) {
            KafkaStreamsState::NotRunning
        } else if self.shutdown.load(Ordering::Relaxed) {
            KafkaStreamsState::PendingShutdown
        } else if inner.phases.iter().all(|p| *p == ThreadPhase::Running) {
            KafkaStreamsState::Running
        } else {
            KafkaStreamsState::Rebalancing
        };
        self.set_state(&mut inner, state);
        self.changed.notify_all();
    }

    /// What the user's handler says about a thread's error (shut the client down without one).
    pub(super) fn response_to(&self, error: &StreamsError) -> StreamThreadExceptionResponse {
        if self.shutdown.load(Ordering::Relaxed) {
            return StreamThreadExceptionResponse::ShutdownClient;
        }
        match self
            .error_handler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            Some(handler) => handler(error),
            None => StreamThreadExceptionResponse::ShutdownClient,
        }
    }

    /// Adds what tasks counted to the client's totals.
    pub(super) fn add_metrics(&self, m: &crate::processor::task_metrics::TaskMetrics) {
        self.processed.fetch_add(m.processed, Ordering::Relaxed);
        self.dropped_records
            .fetch_add(m.dropped_records, Ordering::Relaxed);
        self.punctuations
            .fetch_add(m.punctuations, Ordering::Relaxed);
        self.restore_restarts
            .fetch_add(m.restore_restarts, Ordering::Relaxed);
    }

    /// A thread failed: the client shuts down (the other threads commit and close).
    pub(super) fn fail(&self, thread: usize, error: StreamsError) {
        self.shutdown.store(true, Ordering::Relaxed);
        {
            let mut inner = self.lock();
            if let Some(p) = inner.phases.get_mut(thread) {
                *p = ThreadPhase::Failed;
            }
            inner.error.get_or_insert(error);
            self.set_state(&mut inner, KafkaStreamsState::Error);
            self.changed.notify_all();
        }
        self.report_state_changes();
    }
}
