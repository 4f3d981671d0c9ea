//! The processors behind the stateless DSL operations.

use std::sync::Arc;

use crate::error::Result;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::Record;

pub(crate) type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

pub(crate) struct Filter<F> {
    pub pred: Arc<F>,
    pub keep: bool,
}

impl<K, V, F> Processor<K, V> for Filter<F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) -> bool + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        if (self.pred)(&r.key, &r.value) == self.keep {
            ctx.forward(r)
        } else {
            Ok(())
        }
    }
}

pub(crate) struct Map<F>(pub Arc<F>);

impl<K, V, K2, V2, F> Processor<K, V, K2, V2> for Map<F>
where
    K2: Clone + 'static,
    V2: Clone + 'static,
    F: Fn(K, V) -> (K2, V2) + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K2, V2>) -> Result<()> {
        let (k, v) = (self.0)(r.key, r.value);
        ctx.forward(Record {
            key: k,
            value: v,
            timestamp: r.timestamp,
            headers: r.headers,
        })
    }
}

pub(crate) struct MapValues<F>(pub Arc<F>);

impl<K, V, V2, F> Processor<K, V, K, V2> for MapValues<F>
where
    K: Clone + 'static,
    V2: Clone + 'static,
    F: Fn(&K, V) -> V2 + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V2>) -> Result<()> {
        let v = (self.0)(&r.key, r.value);
        ctx.forward(Record {
            key: r.key,
            value: v,
            timestamp: r.timestamp,
            headers: r.headers,
        })
    }
}

pub(crate) struct FlatMap<F>(pub Arc<F>);

impl<K, V, K2, V2, I, F> Processor<K, V, K2, V2> for FlatMap<F>
where
    K2: Clone + 'static,
    V2: Clone + 'static,
    I: IntoIterator<Item = (K2, V2)>,
    F: Fn(K, V) -> I + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K2, V2>) -> Result<()> {
        for (k, v) in (self.0)(r.key, r.value) {
            ctx.forward(Record {
                key: k,
                value: v,
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            })?;
        }
        Ok(())
    }
}

pub(crate) struct FlatMapValues<F>(pub Arc<F>);

impl<K, V, V2, I, F> Processor<K, V, K, V2> for FlatMapValues<F>
where
    K: Clone + 'static,
    V2: Clone + 'static,
    I: IntoIterator<Item = V2>,
    F: Fn(&K, V) -> I + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V2>) -> Result<()> {
        for v in (self.0)(&r.key, r.value) {
            ctx.forward(Record {
                key: r.key.clone(),
                value: v,
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            })?;
        }
        Ok(())
    }
}

pub(crate) struct SelectKey<F>(pub Arc<F>);

impl<K, V, K2, F> Processor<K, V, K2, V> for SelectKey<F>
where
    K2: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) -> K2 + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K2, V>) -> Result<()> {
        let k = (self.0)(&r.key, &r.value);
        ctx.forward(r.with_key(k))
    }
}

/// `peek` (forwards) and `foreach` (terminal: no children, forwards nothing).
pub(crate) struct Peek<F>(pub Arc<F>);

impl<K, V, F> Processor<K, V> for Peek<F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) + 'static,
{
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        (self.0)(&r.key, &r.value);
        ctx.forward(r)
    }
}

pub(crate) struct PassThrough;

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V> for PassThrough {
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        ctx.forward(r)
    }
}

/// Sends each record to the child of the first matching predicate (children are connected in
/// predicate order); records matching none are dropped.
pub(crate) struct Branch<K, V> {
    pub preds: Arc<Vec<Predicate<K, V>>>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V> for Branch<K, V> {
    fn process(&mut self, r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        match self.preds.iter().position(|p| p(&r.key, &r.value)) {
            Some(i) => ctx.forward_to_index(i, r),
            None => Ok(()),
        }
    }
}
