//! Unit tests of engine internals that need a higher layer to set them up (the Processor API's
//! `Topology` or the DSL builds the topologies they run), kept here so that the engine's own
//! files import nothing above them.

mod plan;
mod task_manager;
