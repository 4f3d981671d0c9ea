//! The node that runs a typed [`Processor`] written by hand or by the DSL.

use std::any::Any;
use std::marker::PhantomData;

use crate::error::Result;
use crate::processor::api::{Processor, ProcessorContext};
use crate::processor::internals::node::{attribute, take_input, NodeInstance, RawCtx};
use crate::processor::schedule::Cancellable;

/// Adapts a typed [`Processor`] to a node instance.
pub(crate) struct ProcessorNode<P, KIn, VIn, KOut, VOut> {
    processor: P,
    _types: PhantomData<fn(KIn, VIn, KOut, VOut)>,
}

impl<P, KIn, VIn, KOut, VOut> ProcessorNode<P, KIn, VIn, KOut, VOut> {
    pub(crate) fn new(processor: P) -> Self {
        ProcessorNode {
            processor,
            _types: PhantomData,
        }
    }
}

macro_rules! with_typed_ctx {
    ($ctx:ident, $c:ident => $body:expr) => {{
        let plan = $ctx.plan;
        let node = $ctx.node;
        let mut $c = ProcessorContext::<KOut, VOut>::new($ctx);
        let result = $body;
        result.map_err(|e| attribute(e, &plan.names[node], $c.raw.task))
    }};
}

impl<P, KIn, VIn, KOut, VOut> NodeInstance for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KIn: 'static,
    VIn: 'static,
    KOut: 'static,
    VOut: 'static,
{
    fn init(&mut self, ctx: RawCtx<'_>) -> Result<()> {
        with_typed_ctx!(ctx, c => self.processor.init(&mut c))
    }

    fn process(&mut self, input: &mut dyn Any, ctx: RawCtx<'_>) -> Result<()> {
        let record = take_input::<KIn, VIn>(input, &ctx)?;
        with_typed_ctx!(ctx, c => self.processor.process(record, &mut c))
    }

    fn punctuate(&mut self, id: Cancellable, timestamp: i64, ctx: RawCtx<'_>) -> Result<()> {
        with_typed_ctx!(ctx, c => self.processor.punctuate(id, timestamp, &mut c))
    }

    fn flush(&mut self, ctx: RawCtx<'_>) -> Result<()> {
        with_typed_ctx!(ctx, c => self.processor.flush(&mut c))
    }

    fn close(&mut self, ctx: RawCtx<'_>) -> Result<()> {
        with_typed_ctx!(ctx, c => self.processor.close(&mut c))
    }
}
