//! The integration suite: one binary, one module per area.

mod analytics;
mod autotraits;
mod lifecycle;
mod lifecycle_props;
mod roundtrip;
mod scoring;
mod support;
