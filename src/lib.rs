//! leoma-gpu: judges AI-generated TI2V clips from measured evidence.
//!
//! Data flows one way: `decode` (video -> frames) -> `frames` (policy, resize,
//! alignment) -> `features` -> `metrics` -> `verdict` -> `rank`. `pipeline`
//! runs one clip through all of it; `task` reads Leoma's task layout;
//! `report` renders verdicts for people; `crosscheck` asks the hosted judge
//! (opt-in) and reports its agreement.

pub mod chain;
pub mod crosscheck;
pub mod decode;
pub mod features;
pub mod flow;
pub mod frames;
pub mod metrics;
pub mod models;
pub mod pipeline;
pub mod rank;
pub mod report;
pub mod store;
pub mod task;
pub mod verdict;
