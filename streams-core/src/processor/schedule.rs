//! Punctuators: which clock drives one, and the handle that cancels it.

/// Which clock drives a punctuator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PunctuationType {
    /// Event time of the task: advances only as records arrive. Fires first with the first
    /// record, then whenever stream time crosses the next multiple of the interval.
    StreamTime,
    /// Wall-clock (system) time; in the test driver, the driver's mock clock. Fires first one
    /// interval after it is scheduled.
    WallClockTime,
}

/// Handle of a scheduled punctuator; pass it to [`ProcessorContext::cancel`](crate::ProcessorContext::cancel) to stop it.
/// The same id is handed to [`Processor::punctuate`](crate::Processor::punctuate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cancellable {
    pub(crate) id: u64,
}

impl Cancellable {
    /// The punctuator's id, unique within its task.
    pub fn id(&self) -> u64 {
        self.id
    }
}
