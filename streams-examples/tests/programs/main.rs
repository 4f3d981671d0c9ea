//! The course programs as users meet them, in one test binary: through the `TopologyTestDriver`
//! (acceptance tests of each program) and as real binaries on a broker (`binaries`, `demo`).

mod binaries;
mod common;
mod demo;
mod enrich;
mod first_program;
mod rides_join_pickups;
mod windowed_count;
