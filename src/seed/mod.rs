//! Data sets written straight into the database: the demo (for trying the app) and large
//! generated ones for benchmarks. Neither goes through the service layer: they set up a world,
//! they are not use cases.

pub mod bench_data;
pub mod demo;
