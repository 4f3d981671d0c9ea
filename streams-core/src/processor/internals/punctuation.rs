//! Punctuation schedules of one task, with Kafka Streams' timing rules.

use crate::processor::schedule::{Cancellable, PunctuationType};

#[derive(Debug)]
struct Schedule {
    id: u64,
    node: usize,
    kind: PunctuationType,
    next: i64,
    interval: i64,
}

/// The schedules of one task. Few per task, so a vector scan beats a heap.
#[derive(Debug, Default)]
pub(crate) struct PunctuationQueue {
    next_id: u64,
    schedules: Vec<Schedule>,
}

impl PunctuationQueue {
    pub(crate) fn schedule(
        &mut self,
        node: usize,
        kind: PunctuationType,
        first: i64,
        interval: i64,
    ) -> Cancellable {
        let id = self.next_id;
        self.next_id += 1;
        self.schedules.push(Schedule {
            id,
            node,
            kind,
            next: first,
            interval,
        });
        Cancellable { id }
    }

    pub(crate) fn cancel(&mut self, id: u64) {
        self.schedules.retain(|s| s.id != id);
    }

    pub(crate) fn is_empty(&self, kind: PunctuationType) -> bool {
        !self.schedules.iter().any(|s| s.kind == kind)
    }

    /// The earliest schedule of `kind` due at `now` (ties: the one scheduled first); its next
    /// time is moved past `now` before it is returned, as Kafka does: missed intervals are
    /// skipped, not replayed.
    pub(crate) fn pop_due(
        &mut self,
        kind: PunctuationType,
        now: i64,
    ) -> Option<(Cancellable, usize)> {
        let s = self
            .schedules
            .iter_mut()
            .filter(|s| s.kind == kind && s.next <= now)
            .min_by_key(|s| (s.next, s.id))?;
        let mut next = s.next.saturating_add(s.interval);
        if now >= next {
            let missed = (now - s.next) / s.interval;
            next = s
                .next
                .saturating_add((missed + 1).saturating_mul(s.interval));
        }
        s.next = next;
        Some((Cancellable { id: s.id }, s.node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_time_schedule_skips_missed_intervals() {
        let mut q = PunctuationQueue::default();
        q.schedule(0, PunctuationType::StreamTime, 0, 10);
        assert!(q.pop_due(PunctuationType::StreamTime, 1000).is_some());
        // Next is 1010, not 10: the gap is not replayed.
        assert!(q.pop_due(PunctuationType::StreamTime, 1009).is_none());
        assert!(q.pop_due(PunctuationType::StreamTime, 1010).is_some());
        assert!(q.pop_due(PunctuationType::StreamTime, 1010).is_none());
        assert!(q.pop_due(PunctuationType::WallClockTime, 5000).is_none());
    }

    #[test]
    fn cancel_removes() {
        let mut q = PunctuationQueue::default();
        let c = q.schedule(3, PunctuationType::WallClockTime, 100, 100);
        q.cancel(c.id);
        assert!(q.pop_due(PunctuationType::WallClockTime, 1000).is_none());
        assert!(q.is_empty(PunctuationType::WallClockTime));
    }
}
