//! Splitting a stream into named branches: [`KStream::split`], [`BranchedKStream`], [`Branched`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::kstream::data::Data;
use crate::kstream::internals::*;
use crate::kstream::stream::KStream;

/// What a branch does with its stream: `None` consumes it, `Some` returns it by name.
type Chain<K, V> = Box<dyn FnOnce(KStream<K, V>) -> Option<KStream<K, V>>>;

/// One branch of [`KStream::split`]: its name and what to do with its stream.
pub struct Branched<K, V> {
    name: Option<String>,
    chain: Option<Chain<K, V>>,
}

impl<K: 'static, V: 'static> Branched<K, V> {
    /// An unnamed branch (named by its position: prefix + 1, 2, ...; the default branch is
    /// prefix + 0).
    pub fn new() -> Self {
        Branched {
            name: None,
            chain: None,
        }
    }
    /// A branch named prefix + `name` in the returned map.
    pub fn named(name: impl Into<String>) -> Self {
        Branched {
            name: Some(name.into()),
            chain: None,
        }
    }
    /// Applies `f` to the branch; its result goes into the returned map.
    pub fn with_function(f: impl FnOnce(KStream<K, V>) -> KStream<K, V> + 'static) -> Self {
        Branched {
            name: None,
            chain: Some(Box::new(move |s| Some(f(s)))),
        }
    }
    /// Hands the branch to `f`; the branch is left out of the returned map.
    pub fn with_consumer(f: impl FnOnce(KStream<K, V>) + 'static) -> Self {
        Branched {
            name: None,
            chain: Some(Box::new(move |s| {
                f(s);
                None
            })),
        }
    }
    /// Sets the name of a branch built with a function or consumer.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl<K: 'static, V: 'static> Default for Branched<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Splits the stream into named branches by predicates (Kafka's `split()`); the branch
    /// names start with the name set by [`KStream::named`], if any.
    ///
    /// ```
    /// # use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// let branches = builder.stream("rides", Consumed::with(StringSerde, I64Serde))
    ///     .named("fare-").split()
    ///     .branch(|_, fare| *fare >= 50, Branched::named("high"))
    ///     .default_branch(Branched::named("rest"));
    /// branches["fare-high"].to("high-fares", Produced::new());
    /// branches["fare-rest"].to("other-fares", Produced::new());
    /// # builder.build()?;
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn split(&self) -> BranchedKStream<K, V> {
        let generated = self.builder.borrow_mut().new_name("KSTREAM-BRANCH-");
        let prefix = self.next_name.clone().unwrap_or(generated);
        BranchedKStream {
            stream: KStream {
                next_name: None,
                ..self.clone()
            },
            prefix,
            branches: Vec::new(),
            finished: false,
        }
    }
}

/// The branches of a [`KStream::split`] being defined. As in Kafka Streams, the branches
/// exist even without a terminal `default_branch` / `no_default_branch`: dropping this adds
/// them (records matching no predicate are then dropped).
pub struct BranchedKStream<K: Data, V: Data> {
    stream: KStream<K, V>,
    prefix: String,
    branches: Vec<(Predicate<K, V>, Branched<K, V>)>,
    finished: bool,
}

impl<K: Data, V: Data> Drop for BranchedKStream<K, V> {
    fn drop(&mut self) {
        // Not while unwinding: the builder may be borrowed by the code that panicked.
        if !self.finished && !std::thread::panicking() {
            self.finish(false);
        }
    }
}

impl<K: Data, V: Data> BranchedKStream<K, V> {
    /// Adds a branch for records matching `predicate` (and no earlier predicate).
    pub fn branch(
        mut self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        branched: Branched<K, V>,
    ) -> Self {
        self.branches.push((Arc::new(predicate), branched));
        self
    }

    /// Adds a branch for records matching no predicate and returns the branches by name.
    pub fn default_branch(mut self, branched: Branched<K, V>) -> HashMap<String, KStream<K, V>> {
        self.branches
            .push((Arc::new(|_: &K, _: &V| true), branched));
        self.finish(true)
    }

    /// Returns the branches by name; records matching no predicate are dropped.
    pub fn no_default_branch(mut self) -> HashMap<String, KStream<K, V>> {
        self.finish(false)
    }

    fn finish(&mut self, has_default: bool) -> HashMap<String, KStream<K, V>> {
        self.finished = true;
        let branches = std::mem::take(&mut self.branches);
        let n = branches.len();
        let names: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(i, (_, b))| {
                let index = if has_default && i + 1 == n { 0 } else { i + 1 };
                match &b.name {
                    Some(name) => format!("{}{name}", self.prefix),
                    None => format!("{}{index}", self.prefix),
                }
            })
            .collect();
        let (preds, branched): (Vec<_>, Vec<_>) = branches.into_iter().unzip();
        let preds = Arc::new(preds);
        let splitter = self
            .stream
            .named(self.prefix.clone())
            .add_node::<K, V, _, _>(
                "",
                move || Branch {
                    preds: preds.clone(),
                },
                &[],
            );
        let splitter_stream = self.stream.derive::<K, V>(
            splitter,
            self.stream.key_serde.clone(),
            self.stream.value_serde.clone(),
            self.stream.repartition_required,
        );
        let mut out = HashMap::new();
        for (name, b) in names.into_iter().zip(branched) {
            let child = splitter_stream.named(name.clone()).add::<K, V, _, _>(
                "",
                || PassThrough,
                self.stream.key_serde.clone(),
                self.stream.value_serde.clone(),
                self.stream.repartition_required,
            );
            let result = match b.chain {
                Some(chain) => chain(child),
                None => Some(child),
            };
            if let Some(s) = result {
                out.insert(name, s);
            }
        }
        out
    }
}
