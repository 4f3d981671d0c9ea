//! What a task counts.

/// Counters of one task.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TaskMetrics {
    /// Records taken from the input queues and processed.
    pub processed: u64,
    /// Records dropped (undecodable with `LogAndContinue`, invalid timestamps under `Skip`,
    /// late records for closed windows).
    pub dropped_records: u64,
    /// Punctuator calls.
    pub punctuations: u64,
    /// Restorations that started over from the beginning of a changelog because the offset to
    /// resume from was out of the changelog's range (it was truncated or recreated): the
    /// store was wiped first.
    pub restore_restarts: u64,
}
