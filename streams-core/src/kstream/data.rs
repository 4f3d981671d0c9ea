//! What flows through a stream.

/// Types that can flow through a stream: cloned only where a record fans out to several
/// children.
pub trait Data: Clone + 'static {}
impl<T: Clone + 'static> Data for T {}
